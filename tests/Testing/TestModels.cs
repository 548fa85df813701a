using System.Globalization;
using Scm.Checkpoints;
using Scm.Network;

namespace Testing;

/// <summary>A small randomly initialised consistency checkpoint: exercises the cluster's mechanics quickly.</summary>
public static class TestModels
{
    public static readonly NetworkConfig TinyNetwork = new()
    {
        Resolution = 16, ImageChannels = 1, ModelChannels = 8, ChannelMultipliers = [1, 2], BlocksPerLevel = 1,
        AttentionResolutions = [], NumClasses = 10, GroupNormGroups = 4, LogVarianceHead = false,
    };

    static readonly Lazy<string> tinyCard = new(() =>
    {
        var directory = Path.Combine(Path.GetTempPath(), "scm-cluster-tests", "tiny-" + Guid.NewGuid().ToString("N"));
        TorchSharp.torch.manual_seed(7);
        using var network = new ScmUNet(TinyNetwork);
        var card = Path.Combine(directory, "model.json");
        Checkpoint.Save(network, new ModelCard
        {
            Name = "tiny-random",
            Kind = ModelCard.ConsistencyKind,
            Network = TinyNetwork,
            ClassNames = Enumerable.Range(0, 10).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray(),
        }, card);
        return card;
    });

    /// <summary>Path of the tiny model's card (created once per test run).</summary>
    public static string TinyCard => tinyCard.Value;
}
