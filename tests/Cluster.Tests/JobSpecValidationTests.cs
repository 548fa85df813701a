using Grains.Interfaces;

namespace Cluster.Tests;

public class JobSpecValidationTests
{
    static readonly JobSpec Valid = new() { Kind = JobKind.ImageSet, ModelId = "tiny", Classes = [1], Frames = 4, OutputSize = 32 };

    public static TheoryData<string, JobSpec, string> InvalidSpecs => new()
    {
        { "frames 0", Valid with { Frames = 0 }, "frames: must be in [1, 10000], got 0" },
        { "frames huge", Valid with { Frames = 1_000_000 }, "frames: must be in [1, 10000], got 1000000" },
        { "fps", Valid with { Fps = 0 }, "fps: must be in [1, 60], got 0" },
        { "steps 0", Valid with { Steps = 0 }, "steps: must be in [1, 16], got 0" },
        { "steps huge", Valid with { Steps = 99 }, "steps: must be in [1, 16], got 99" },
        { "size small", Valid with { OutputSize = 2 }, "outputSize: must be in [8, 1024], got 2" },
        { "size huge", Valid with { OutputSize = 100_000 }, "outputSize: must be in [8, 1024], got 100000" },
        { "resize", Valid with { Resize = "lanczos" }, "resize: must be 'bilinear' or 'nearest', got 'lanczos'" },
        { "priority", Valid with { Priority = -1 }, "priority: must be in [0, 100], got -1" },
        { "item frames", Valid with { ItemFrames = 0 }, "itemFrames: must be in [1, 256], got 0" },
        { "guidance NaN", Valid with { Guidance = double.NaN }, "guidance: must be in [0, 10], got NaN" },
        { "no classes", Valid with { Classes = [] }, "classes: at least one class is required" },
        { "model id injection", Valid with { ModelId = "../../etc/passwd" }, "modelId: 1-128 characters from [A-Za-z0-9-_.]" },
        { "empty model", Valid with { ModelId = "" }, "modelId: required" },
        { "times count", Valid with { Steps = 3, IntermediateTimes = [1.0] }, "intermediateTimes: needs steps - 1 = 2 values, got 1" },
        { "times order", Valid with { Steps = 3, IntermediateTimes = [0.5, 1.0] }, "intermediateTimes: must decrease strictly" },
        { "times range", Valid with { Steps = 2, IntermediateTimes = [2.0] }, "intermediateTimes: must decrease strictly within (0, 1.5645)" },
    };

    [Theory]
    [MemberData(nameof(InvalidSpecs))]
    public void Each_invalid_field_gets_an_error_naming_it_and_its_range(string name, JobSpec spec, string expected)
    {
        var errors = JobSpecValidator.Validate(spec, new JobLimits());
        Assert.True(errors.Any(e => e.Message.StartsWith(expected, StringComparison.Ordinal) && expected.StartsWith(e.Field + ": ", StringComparison.Ordinal)),
            $"{name}: got [{string.Join(" | ", errors)}]");
    }

    [Fact]
    public void A_valid_spec_has_no_errors() => Assert.Empty(JobSpecValidator.Validate(Valid, new JobLimits()));

    [Fact]
    public async Task The_coordinator_rejects_unknown_models_unknown_classes_unsupported_guidance_and_duplicate_ids()
    {
        await using var harness = await ClusterHarness.StartAsync(silos: 1);
        async Task<string[]> Submit(string id, JobSpec spec) => (await harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("default", id)).Submit(spec, "default")).Errors;

        Assert.Contains("modelId: unknown model 'nope'; registered:", (await Submit("bad-model", Valid with { ModelId = "nope" })).Single());
        Assert.Equal("classes: model 'tiny' has classes 0..9, got [3, 12]", (await Submit("bad-class", Valid with { Classes = [3, 12] })).Single());
        Assert.Equal("guidance: model 'tiny' was not distilled with guidance; use 1", (await Submit("bad-guidance", Valid with { Guidance = 2 })).Single());
        Assert.Null(await harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("default", "bad-model")).GetStatus()); // nothing half-created

        Assert.Empty(await Submit("dup", Valid));
        Assert.Equal("jobId: 'dup' already exists", (await Submit("dup", Valid)).Single());
    }
}
