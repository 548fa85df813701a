using Grains.Interfaces;

namespace Cluster.Tests;

public static partial class MalformedInputs
{
    /// <summary>
    /// API keys that must be refused, with the problem the refusal must report. <paramref name="adminKeyId"/>: the
    /// cluster's bootstrap admin key id (a right id with a wrong secret is WrongKey, not UnknownKey).
    /// </summary>
    public static IEnumerable<(string Name, string? Key, AuthProblem Problem)> BadKeys(string adminKeyId)
    {
        yield return ("null key", null, AuthProblem.MissingKey);
        yield return ("empty key", "", AuthProblem.MissingKey);
        yield return ("whitespace key", " \t\n", AuthProblem.MissingKey);
        foreach (var (name, key) in new[]
        {
            ("prefix only", "scm_"), ("wrong prefix", "sk_0123456789abcdef_secret"), ("upper-case prefix", "SCM_0123456789abcdef_secret"),
            ("bearer", "Bearer scm_0123456789abcdef_secret"), ("short key id", "scm_0123_secret"), ("long key id", "scm_0123456789abcdef01_secret"),
            ("upper-case hex", "scm_0123456789ABCDEF_secret"), ("non-hex id", "scm_0123456789abcdeg_secret"), ("no secret", "scm_0123456789abcdef_"),
            ("no separator", "scm_0123456789abcdefsecret"), ("10 KB garbage", new string('k', 10 * 1024)),
            ("injection id", "scm_' OR 1=1 --xxxxx_secret"), ("traversal id", "scm_../../../../etc_secret"), ("unicode id", "scm_０１２３４５６７８９abcdef_s"),
            ("rtl", "\u202Escm_0123456789abcdef_secret"), ("nul in id", "scm_0123456789abcde\0_secret"), ("emoji", "scm_😀😀😀😀😀😀😀😀_secret"),
        })
            yield return (name, key, AuthProblem.MalformedKey);
        yield return ("unknown key id", "scm_0123456789abcdef_secret", AuthProblem.UnknownKey);
        yield return ("unknown key id, 10 KB secret", "scm_fedcba9876543210_" + new string('s', 10 * 1024), AuthProblem.UnknownKey);
        yield return ("unknown key id, hostile secret", "scm_00000000000000ff_'; DROP TABLE keys; --\0\u202E", AuthProblem.UnknownKey);
        yield return ("admin id, wrong secret", $"scm_{adminKeyId}_wrong", AuthProblem.WrongKey);
        yield return ("admin id, 10 KB secret", $"scm_{adminKeyId}_{new string('x', 10 * 1024)}", AuthProblem.WrongKey);
        yield return ("admin id, empty-looking secret", $"scm_{adminKeyId}_\u200B", AuthProblem.WrongKey);
    }

    /// <summary>Names no tenant may have (each must be refused naming "tenant").</summary>
    public static IEnumerable<(string Name, string? Tenant)> BadTenantNames()
    {
        yield return ("null", null);
        yield return ("65 chars", new string('t', 65));
        yield return ("10 KB", new string('t', 10 * 1024));
        foreach (var (name, value) in HostileStrings) yield return (name, value);
        yield return ("dot", "a.b");
        yield return ("slash", "a/b");
        yield return ("colon", "a:b");
        yield return ("trailing space", "acme ");
    }

    /// <summary>Quota patches with one invalid field each: (case, patch, field).</summary>
    public static IEnumerable<(string Name, QuotaPatch Patch, string Field)> BadQuotas()
    {
        foreach (var bad in new[] { -1, int.MinValue })
        {
            yield return ($"maxRunningJobs {bad}", new QuotaPatch { MaxRunningJobs = bad }, "maxRunningJobs");
            yield return ($"maxQueuedFrames {bad}", new QuotaPatch { MaxQueuedFrames = bad }, "maxQueuedFrames");
            yield return ($"maxFramesPerJob {bad}", new QuotaPatch { MaxFramesPerJob = bad }, "maxFramesPerJob");
            yield return ($"maxOutputSize {bad}", new QuotaPatch { MaxOutputSize = bad }, "maxOutputSize");
            yield return ($"framesPerDay {bad}", new QuotaPatch { FramesPerDay = bad }, "framesPerDay");
        }
        foreach (var bad in new[] { -1, double.NaN, double.PositiveInfinity, double.NegativeInfinity, -double.Epsilon, double.MinValue })
            yield return ($"deviceSecondsPerDay {bad}", new QuotaPatch { DeviceSecondsPerDay = bad }, "deviceSecondsPerDay");
    }

    public static readonly double[] BadWeights =
        [0, -1, -0.0, double.NaN, double.PositiveInfinity, double.NegativeInfinity, double.Epsilon, 1e-320, 0.0009, 1000.5, 1e308, double.MaxValue];

    /// <summary>Job ids that exist nowhere (or cannot): injection-, traversal- and unicode-looking, huge, empty.</summary>
    public static IEnumerable<(string Name, string JobId)> BadJobIds()
    {
        yield return ("well-formed, missing", "j20250101-000000-abcdef");
        yield return ("65 chars", new string('j', 65));
        yield return ("10 KB", new string('j', 10 * 1024));
        foreach (var (name, value) in HostileStrings) yield return (name, value);
        yield return ("other tenant's prefix", "tenants/admin/jobs/x");
    }
}
