using Grains.Interfaces;
using Xunit.Abstractions;

namespace Cluster.Tests;

/// <summary>
/// The generated malformed specs and JSON bodies, checked without a cluster: every one is refused with an error that
/// names its field (and the limit, where there is one), and no error message is huge or carries raw control characters.
/// The cluster-level run of the same cases is <see cref="MalformedRequestTests"/>.
/// </summary>
[Trait("Category", "Unit")]
public class MalformedInputTests(ITestOutputHelper output)
{
    /// <summary>An error longer than this echoes client input wholesale (a 10 MB id must not come back as a 10 MB error).</summary>
    public const int MaxErrorLength = 600;

    [Fact]
    public void There_are_at_least_200_generated_cases_with_unique_names_and_the_generator_is_deterministic()
    {
        var specs = MalformedInputs.Specs().ToList();
        var json = MalformedInputs.JsonCases().ToList();
        output.WriteLine($"{specs.Count} typed spec cases ({specs.Count(c => c.NeedsModel)} need the model, {specs.Count(c => c.QuotaOnly)} quota), {json.Count} JSON cases");
        Assert.True(specs.Count + json.Count >= 200, $"only {specs.Count + json.Count} cases");
        Assert.Equal(specs.Count, specs.Select(c => c.Name).Distinct().Count());
        Assert.Equal(json.Count, json.Select(c => c.Name).Distinct().Count());
        // Same seed, same cases: a failure names a case that can be re-run.
        Assert.Equal(specs.Select(c => c.Spec.ToString()), MalformedInputs.Specs().Select(c => c.Spec.ToString()));
    }

    [Fact]
    public void Every_malformed_spec_is_refused_by_the_validator_naming_its_field_and_limit()
    {
        var failures = new List<string>();
        foreach (var c in MalformedInputs.Specs().Where(c => !c.NeedsModel && !c.QuotaOnly))
        {
            var errors = Messages(JobSpecValidator.Validate(c.Spec, new JobLimits()));
            if (Problem(errors, c.Field, c.Limit) is { } problem) failures.Add($"{c.Name}: {problem}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void The_model_checks_refuse_unknown_classes_and_guidance_naming_the_field()
    {
        var tiny = new ModelInfo { Id = "tiny", Kind = "consistency", Resolution = 16, Channels = 1, NumClasses = 10, ClassNames = [], SupportsGuidance = false };
        var failures = new List<string>();
        foreach (var c in MalformedInputs.Specs().Where(c => c.NeedsModel && c.Field != "modelId"))
        {
            var errors = Messages(JobSpecValidator.Validate(c.Spec, new JobLimits(), tiny));
            if (Problem(errors, c.Field, c.Limit) is { } problem) failures.Add($"{c.Name}: {problem}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Every_malformed_json_body_is_refused_naming_its_field_or_position()
    {
        var failures = new List<string>();
        foreach (var c in MalformedInputs.JsonCases())
        {
            var (spec, errors) = Parse(c.Body);
            if (spec is not null) failures.Add($"{c.Name}: accepted as {spec}");
            else if (c.Field is null
                ? errors.Count != 1 || !errors[0].Contains("line ", StringComparison.Ordinal) || errors[0].Length > MaxErrorLength
                : Problem(errors, c.Field, c.Limit) is not null)
                failures.Add($"{c.Name}: {Problem(errors, c.Field ?? "line ", c.Limit)} [{string.Join(" | ", errors)}]");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void The_valid_json_body_parses_to_the_valid_spec()
    {
        var (spec, errors) = Parse(MalformedInputs.ValidJson);
        Assert.Empty(errors);
        Assert.Equal(MalformedInputs.Valid with { Classes = spec!.Classes }, spec);
        Assert.Equal(MalformedInputs.Valid.Classes, spec.Classes);
    }

    [Fact]
    public void Enum_names_are_read_exactly_not_as_flags_padded_or_numbers()
    {
        Assert.Equal(JobKind.Video, JobSpecJson.Read(MalformedInputs.With("kind", "\"video\"")).Spec?.Kind);
        foreach (var raw in new[] { "\"ImageSet,Video\"", "\"imageset \"", "\" Video\"", "1", "\"1\"" })
            Assert.Equal(["kind: must be one of 'ImageSet', 'Video', got " + (raw[0] == '"' ? $"the string '{raw[1..^1]}'" : "the number 1")],
                Messages(JobSpecJson.Read(MalformedInputs.With("kind", raw)).Errors));
    }

    [Fact]
    public void Unknown_property_names_are_echoed_bounded_and_escaped()
    {
        var bidi = Assert.Single(JobSpecJson.Read(MalformedInputs.With("fr\u202Eames:x", "1")).Errors);
        Assert.StartsWith("body: unknown property 'fr\\u202Eames:x'; a job spec has", bidi.Message);
        Assert.Equal("body", bidi.Field);
        var huge = Assert.Single(JobSpecJson.Read(MalformedInputs.With(new string('n', 100_000), "1")).Errors).Message;
        Assert.Contains("(first 64 of 100000 characters)", huge);
        Assert.True(huge.Length < MaxErrorLength, huge);
        var typo = Assert.Single(JobSpecJson.Read(MalformedInputs.With("frams", "1")).Errors);
        Assert.StartsWith("frams: unknown property 'frams'", typo.Message);
        Assert.Equal("frams", typo.Field);
    }

    /// <summary>The JSON step, then the validator: what the HTTP API does before asking the cluster.</summary>
    static (JobSpec? Spec, IReadOnlyList<string> Errors) Parse(string json) => Parse(System.Text.Encoding.UTF8.GetBytes(json));

    static (JobSpec? Spec, IReadOnlyList<string> Errors) Parse(byte[] utf8)
    {
        var (spec, errors) = JobSpecJson.Read(utf8);
        if (errors.Count > 0) return (null, Messages(errors));
        errors = JobSpecValidator.Validate(spec, new JobLimits());
        return errors.Count > 0 ? (null, Messages(errors)) : (spec, []);
    }

    static List<string> Messages(IEnumerable<FieldError> errors) => errors.Select(e => e.Message).ToList();

    [Fact]
    public void Echoed_values_are_short_and_escaped()
    {
        Assert.Equal("'a\\u202Eb\\u0000\\u000A'", JobSpecValidator.Echo("a\u202Eb\0\n"));
        var huge = JobSpecValidator.Echo(MalformedInputs.Huge());
        Assert.True(huge.Length < 120, huge);
        Assert.EndsWith($"(first 64 of {MalformedInputs.Huge().Length} characters)", huge);
        Assert.Equal("[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ... (1000000 values)]", JobSpecValidator.Echo(new int[1_000_000]));
    }

    /// <summary>Null when the errors refuse properly: some error names the field (and limit); none is huge or raw.</summary>
    public static string? Problem(IReadOnlyList<string> errors, string field, string? limit)
    {
        if (errors.Count == 0) return "accepted";
        if (errors.FirstOrDefault(e => e.Length > MaxErrorLength) is { } huge) return $"an error of {huge.Length} characters";
        if (errors.FirstOrDefault(e => e.Any(c => char.IsControl(c) || c is '\u202E' or '\u200B' or '\uFEFF')) is { } raw)
            return $"raw control or bidi characters in '{JobSpecValidator.Echo(raw)}'";
        var naming = errors.Where(e => e.Contains(field, StringComparison.OrdinalIgnoreCase)).ToList();
        if (naming.Count == 0) return $"no error names '{field}': [{string.Join(" | ", errors)}]";
        if (limit is not null && !naming.Any(e => e.Contains(limit, StringComparison.Ordinal)))
            return $"the error for '{field}' does not state the limit {limit}: [{string.Join(" | ", naming)}]";
        return null;
    }
}
