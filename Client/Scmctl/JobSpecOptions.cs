using System.CommandLine;
using System.Globalization;
using ApiClient;

namespace Scmctl;

/// <summary>Command-line options that build a job spec (the same names and defaults as before the move to HTTP).</summary>
public sealed class JobSpecOptions
{
    readonly Option<string> kind = new("--kind") { Description = "ImageSet or Video.", DefaultValueFactory = _ => "Video" };
    readonly Option<string> model = new("--model") { Description = "Model id.", DefaultValueFactory = _ => "mnist-scm" };
    readonly Option<string> classes = new("--classes") { Description = "Comma-separated classes (video: keyframes, e.g. 3,7).", DefaultValueFactory = _ => "0,1,2,3,4,5,6,7,8,9" };
    readonly Option<int> frames = new("--frames") { Description = "Number of frames.", DefaultValueFactory = _ => 60 };
    readonly Option<int> fps = new("--fps") { Description = "MP4 frames per second.", DefaultValueFactory = _ => 12 };
    readonly Option<ulong> seed = new("--seed") { Description = "Seed of all noise.", DefaultValueFactory = _ => 0UL };
    readonly Option<int> steps = new("--steps") { Description = "Consistency steps (1, 2 or N).", DefaultValueFactory = _ => 2 };
    readonly Option<string?> times = new("--times") { Description = "Intermediate TrigFlow times, comma-separated (steps-1 values)." };
    readonly Option<double> guidance = new("--guidance") { Description = "Guidance scale (models distilled with guidance only).", DefaultValueFactory = _ => 1.0 };
    readonly Option<int> size = new("--size") { Description = "Output frame size in pixels.", DefaultValueFactory = _ => 128 };
    readonly Option<string> resize = new("--resize") { Description = "bilinear or nearest.", DefaultValueFactory = _ => "bilinear" };
    readonly Option<bool> mp4 = new("--mp4") { Description = "Also assemble an MP4." };
    readonly Option<int> priority = new("--priority") { Description = "Priority within your jobs (higher first).", DefaultValueFactory = _ => 0 };
    readonly Option<int?> itemFrames = new("--item-frames") { Description = "Frames per work item (default: cluster default)." };

    public static JobSpecOptions Add(Command command)
    {
        var o = new JobSpecOptions();
        foreach (var option in new Option[] { o.kind, o.model, o.classes, o.frames, o.fps, o.seed, o.steps, o.times, o.guidance, o.size, o.resize, o.mp4, o.priority, o.itemFrames })
            command.Options.Add(option);
        return o;
    }

    /// <summary>Ranges are the cluster's to check (its limits are configured per deployment); here only the syntax.</summary>
    public JobRequest Build(ParseResult r) => new()
    {
        Kind = Kind(r.GetValue(kind)!), ModelId = r.GetValue(model)!, Classes = ParseList(r.GetValue(classes)!, "--classes", s => int.Parse(s, CultureInfo.InvariantCulture)),
        Frames = r.GetValue(frames), Fps = r.GetValue(fps), Seed = r.GetValue(seed), Steps = r.GetValue(steps),
        IntermediateTimes = r.GetValue(times) is { } t ? ParseList(t, "--times", s => double.Parse(s, CultureInfo.InvariantCulture)) : null,
        Guidance = r.GetValue(guidance), OutputSize = r.GetValue(size), Resize = r.GetValue(resize)!, Mp4 = r.GetValue(mp4),
        Priority = r.GetValue(priority), ItemFrames = r.GetValue(itemFrames),
    };

    /// <summary>By name only: "1" must not silently become Video (an enum parser accepts numbers).</summary>
    static string Kind(string value) =>
        value.Equals("ImageSet", StringComparison.OrdinalIgnoreCase) ? "ImageSet"
        : value.Equals("Video", StringComparison.OrdinalIgnoreCase) ? "Video"
        : throw new ArgumentException($"--kind: must be ImageSet or Video, got {ScmApiException.Echo(value)}");

    static T[] ParseList<T>(string text, string option, Func<string, T> parse)
    {
        try { return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(parse).ToArray(); }
        catch (FormatException) { throw new ArgumentException($"{option}: expected a comma-separated list of numbers, got {ScmApiException.Echo(text)}"); }
        catch (OverflowException) { throw new ArgumentException($"{option}: a value is out of range in {ScmApiException.Echo(text)}"); }
    }
}
