using ScmTools;

namespace ScmTools.Tests;

/// <summary>`scm-tools train` refuses bad input with a message naming the option, never a stack trace (exit 2).</summary>
public sealed class TrainCommandTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("train-command-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Theory]
    [InlineData("--fine-tune-at", "0", "--fine-tune-at")]
    [InlineData("--fine-tune-lr", "0", "--fine-tune-lr")]
    [InlineData("--batch-size", "0", "--batch-size")]
    [InlineData("--ema-decay", "NaN", "--ema-decay")]
    [InlineData("--p-std", "Infinity", "--p-std")]
    [InlineData("--device", "tpu:0", "--device")]
    [InlineData("--ema-target-from", "-1", "--ema-target-from")]
    [InlineData("--tangent-warmup", "-5", "--tangent-warmup")]
    [InlineData("--teacher-guidance", "-1", "--teacher-guidance")]
    [InlineData("--target-ema-decay", "0.9", "--target-ema-decay")]
    [InlineData("--dmd-weight", "0", "--dmd-weight")]
    [InlineData("--t-mid", "1.6", "--t-mid")]
    [InlineData("--dmd-from", "5", "--dmd-weight")]
    [InlineData("--dmd-fake-updates", "0", "--dmd-fake-updates")]
    [InlineData("--probe-t-mids", "0.5,x", "--probe-t-mids")]
    [InlineData("--probe-t-mids", "0.5,1.6", "--probe-t-mids")]
    [InlineData("--probe-t-mids", "0.5,0.5", "--probe-t-mids")]
    [InlineData("--probe-t-mids", "1.1", "--probe-t-mids")]
    [InlineData("--probe-t-mids", "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9", "--probe-t-mids")]
    public async Task Train_scd_with_an_invalid_option_exits_2_naming_it(string option, string value, string named)
    {
        Assert.True(Scm.Training.MnistDigits.IsPresent(RepoPaths.Data), $"MNIST is missing in {RepoPaths.Data}: run infra/fetch-mnist.sh");
        var (exit, errors) = await Invoke("train", "scd", "--teacher", Path.Combine(RepoPaths.Models, "mnist-teacher", "model.json"),
            "--run", Path.Combine(directory, "run"), "--threads", "1", option, value);

        Assert.Equal(2, exit);
        Assert.Contains(named, errors);
        Assert.DoesNotContain("   at ", errors);
        Assert.False(Directory.Exists(Path.Combine(directory, "run", "state")), "nothing may be trained");
    }

    [Theory]
    [InlineData("--model-channels", "12")]
    [InlineData("--model-channels", "0")]
    [InlineData("--blocks-per-level", "0")]
    public async Task Train_teacher_with_an_invalid_size_exits_2_naming_it(string option, string value)
    {
        var (exit, errors) = await Invoke("train", "teacher", "--run", Path.Combine(directory, "run"), "--threads", "1", option, value);

        Assert.Equal(2, exit);
        Assert.Contains(option, errors);
        Assert.False(Directory.Exists(Path.Combine(directory, "run", "state")), "nothing may be trained");
    }

    [Fact]
    public async Task Train_teacher_at_another_width_and_depth_records_them_on_its_card()
    {
        var run = Path.Combine(directory, "narrow");
        var (exit, errors) = await Invoke("train", "teacher", "--run", run, "--threads", "1", "--iterations", "2", "--batch-size", "2",
            "--checkpoint-every", "2", "--model-channels", "16", "--blocks-per-level", "2");

        Assert.True(exit == 0, errors);
        var (network, card) = Scm.Checkpoints.Checkpoint.Load(Path.Combine(run, "ema", "model.json"), TorchSharp.torch.CPU);
        Assert.Equal(16, card.Network.ModelChannels);
        Assert.Equal(2, card.Network.BlocksPerLevel);
        Assert.True(network.ParameterCount() < 1_000_000, $"a 16-channel network has {network.ParameterCount():N0} parameters");
    }

    [Fact]
    public async Task Train_inspect_of_a_folder_without_a_run_exits_2_saying_so()
    {
        var (exit, errors) = await Invoke("train", "inspect", "--run", directory);

        Assert.Equal(2, exit);
        Assert.Contains("holds no saved run", errors);
    }

    [Theory]
    [InlineData("0.6,abc", "'abc' is not a number")]
    [InlineData("0.6,1.6", "outside (0, ")]
    [InlineData("0", "outside (0, ")]
    [InlineData(",", "at least one time")]
    public async Task Train_t_mid_with_bad_times_exits_2_naming_the_option(string times, string message)
    {
        var (exit, errors) = await Invoke("train", "t-mid", "--student", Path.Combine(RepoPaths.Models, "mnist-scm", "model.json"), "--times", times);

        Assert.Equal(2, exit);
        Assert.Contains("--times", errors);
        Assert.Contains(message, errors);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("21")]
    public async Task Train_t_mid_with_bad_noise_seeds_exits_2_naming_the_option(string seeds)
    {
        var (exit, errors) = await Invoke("train", "t-mid", "--student", Path.Combine(RepoPaths.Models, "mnist-scm", "model.json"), "--noise-seeds", seeds);

        Assert.Equal(2, exit);
        Assert.Contains("--noise-seeds must be in [1, 20]", errors);
    }

    [Fact]
    public async Task Train_t_mid_on_several_noise_seeds_shows_each_cell_as_mean_and_spread_and_marks_one_best()
    {
        Assert.True(Scm.Training.MnistDigits.IsPresent(RepoPaths.Data), $"MNIST is missing in {RepoPaths.Data}: run infra/fetch-mnist.sh");
        var (exit, output, errors) = await CommandLine.InvokeCapturingOutput(TrainCommands.Create(), "train", "t-mid", "--student",
            Path.Combine(RepoPaths.Models, "mnist-scm", "model.json"), "--times", "0.3,1.1", "--validation-samples", "20", "--noise-seeds", "2", "--threads", "1");

        Assert.True(exit == 0, errors);
        Assert.Contains("over 2 noise seeds (7..8)", output);
        string row = output.Split('\n').Single(line => line.Contains("model.json"));
        Assert.Equal(3, row.Split("+-").Length - 1); // 1-step and both candidates
        Assert.Single(row, '*');
    }

    [Fact]
    public async Task Train_t_mid_refuses_a_diffusion_model()
    {
        var (exit, errors) = await Invoke("train", "t-mid", "--student", Path.Combine(RepoPaths.Models, "mnist-teacher", "model.json"));

        Assert.Equal(2, exit);
        Assert.Contains("'diffusion' model", errors);
    }

    [Fact]
    public async Task Train_t_mid_write_records_one_of_the_candidates_in_the_card_and_leaves_the_weights()
    {
        Assert.True(Scm.Training.MnistDigits.IsPresent(RepoPaths.Data), $"MNIST is missing in {RepoPaths.Data}: run infra/fetch-mnist.sh");
        string shipped = Path.Combine(RepoPaths.Models, "mnist-scm");
        string copy = Path.Combine(directory, "student");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(shipped)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        string card = Path.Combine(copy, "model.json"), weights = Path.Combine(copy, "model.safetensors");
        byte[] weightsBefore = File.ReadAllBytes(weights);

        var (exit, errors) = await Invoke("train", "t-mid", "--student", card, "--times", "0.3,1.1", "--validation-samples", "20", "--threads", "1", "--write");

        Assert.True(exit == 0, errors);
        var written = Scm.Checkpoints.Checkpoint.ReadCard(card);
        Assert.Contains(written.TMid, new double?[] { 0.3, 1.1 });
        Assert.Equal(weightsBefore, File.ReadAllBytes(weights));
        var before = Scm.Checkpoints.Checkpoint.ReadCard(Path.Combine(shipped, "model.json")) with { TMid = written.TMid };
        var options = Scm.Checkpoints.ModelCard.JsonOptions;
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(before, options), System.Text.Json.JsonSerializer.Serialize(written, options)); // only t_mid changed
    }

    static Task<(int Exit, string Errors)> Invoke(params string[] args) => CommandLine.Invoke(TrainCommands.Create(), args);
}
