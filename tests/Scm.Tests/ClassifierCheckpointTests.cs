using System.Text.Json;
using Scm.Checkpoints;
using Scm.Evaluation;
using static TorchSharp.torch;

namespace Scm.Tests;

public sealed class ClassifierCheckpointTests : IDisposable
{
    static readonly ClassifierConfig Small = new() { Channels = [4, 8], FeatureChannels = 8 };
    readonly string directory = Directory.CreateTempSubdirectory("classifier-card-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    string CardPath => Path.Combine(directory, ClassifierCheckpoint.CardFileName);

    static ClassifierCard Card(ClassifierConfig config) => new()
    {
        Name = "test", Kind = ClassifierCard.ClassifierKind, Network = config, ClassNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    };

    void SaveSmall()
    {
        manual_seed(5);
        using var classifier = new MnistClassifier(Small);
        ClassifierCheckpoint.Save(classifier, Card(Small), CardPath);
    }

    [Fact]
    public void Round_trip_preserves_features_and_predictions()
    {
        manual_seed(6);
        using var classifier = new MnistClassifier(Small);
        classifier.eval();
        ClassifierCheckpoint.Save(classifier, Card(Small), CardPath);
        var (loaded, card) = ClassifierCheckpoint.Load(CardPath, CPU);
        using (loaded)
        {
            using var images = rand(7, 1, 32, 32) * 2 - 1;
            using var before = classifier.ExtractFeatures(images);
            using var after = loaded.ExtractFeatures(images);
            Assert.Equal(before.data<double>().ToArray(), after.data<double>().ToArray());
            Assert.Equal(Small.Channels, card.Network.Channels);
            Assert.Equal(Small.FeatureChannels, after.shape[1]);
        }
    }

    [Fact]
    public void Missing_card_is_reported() =>
        Assert.Contains("not found", Assert.Throws<CheckpointException>(() => ClassifierCheckpoint.Load(CardPath, CPU)).Message);

    [Fact]
    public void Invalid_json_is_reported()
    {
        File.WriteAllText(CardPath, "{ not json");
        Assert.Contains("not a valid classifier card", Assert.Throws<CheckpointException>(() => ClassifierCheckpoint.Load(CardPath, CPU)).Message);
    }

    [Fact]
    public void A_generator_card_is_rejected_by_kind()
    {
        SaveSmall();
        File.WriteAllText(CardPath, JsonSerializer.Serialize(Card(Small) with { Kind = "consistency" }, ClassifierCard.JsonOptions));
        Assert.Contains("kind must be 'mnist-classifier'", Assert.Throws<CheckpointException>(() => ClassifierCheckpoint.Load(CardPath, CPU)).Message);
    }

    [Fact]
    public void An_invalid_architecture_names_the_field()
    {
        File.WriteAllText(CardPath, JsonSerializer.Serialize(Card(Small with { Channels = [] }), ClassifierCard.JsonOptions));
        Assert.Contains("Channels", Assert.Throws<CheckpointException>(() => ClassifierCheckpoint.Load(CardPath, CPU)).Message);
    }

    [Fact]
    public void A_null_architecture_is_reported_as_an_invalid_card()
    {
        File.WriteAllText(CardPath, """{ "name": "x", "kind": "mnist-classifier", "network": null }""");
        Assert.Contains("not a valid classifier card", Assert.Throws<CheckpointException>(() => ClassifierCheckpoint.Load(CardPath, CPU)).Message);
    }

    [Theory]
    [InlineData("../model.safetensors")]
    [InlineData("/etc/passwd")]
    [InlineData("")]
    public void Weights_outside_the_card_folder_are_refused(string weights)
    {
        SaveSmall();
        File.WriteAllText(CardPath, JsonSerializer.Serialize(Card(Small) with { Weights = weights }, ClassifierCard.JsonOptions));
        Assert.Contains("weights must be a file name beside the card", Assert.Throws<CheckpointException>(() => ClassifierCheckpoint.Load(CardPath, CPU)).Message);
    }

    [Fact]
    public void Missing_weights_are_reported()
    {
        SaveSmall();
        File.Delete(Path.Combine(directory, "model.safetensors"));
        Assert.Contains("Weights not found", Assert.Throws<CheckpointException>(() => ClassifierCheckpoint.Load(CardPath, CPU)).Message);
    }

    [Fact]
    public void Weights_of_another_architecture_are_reported_with_shapes()
    {
        SaveSmall();
        File.WriteAllText(CardPath, JsonSerializer.Serialize(Card(Small with { FeatureChannels = 16 }), ClassifierCard.JsonOptions));
        var error = Assert.Throws<CheckpointException>(() => ClassifierCheckpoint.Load(CardPath, CPU));
        Assert.Contains("hidden.weight", error.Message);
        Assert.Contains("[8, 8]", error.Message);
    }

    [Fact]
    public void Truncated_weights_are_reported()
    {
        SaveSmall();
        string weights = Path.Combine(directory, "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length - 100)]);
        Assert.Contains("truncated", Assert.Throws<CheckpointException>(() => ClassifierCheckpoint.Load(CardPath, CPU)).Message);
    }

    [Fact]
    public void Classifying_in_training_mode_is_refused()
    {
        using var classifier = new MnistClassifier(Small);
        using var images = zeros(2, 1, 32, 32);
        Assert.Throws<InvalidOperationException>(() => classifier.Classify(images));
    }
}
