using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Grains.Interfaces;

namespace Cluster.Tests;

/// <summary>
/// How a JSON front end should read a job spec, and the behaviour the JSON fuzz cases pin down. The CLI has no JSON
/// spec path (it builds specs from options), so this is the reference for the HTTP API: web defaults (camelCase,
/// case-insensitive names) made strict: numbers only as numbers, no unknown or duplicate properties, no null for
/// non-nullable fields, enums only by name, bounded depth. A deserialisation error becomes "field: problem (line,
/// byte)", never the serializer's own text with the value in it.
/// </summary>
public static partial class JsonSpecParser
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.Strict,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
        RespectNullableAnnotations = true,
        MaxDepth = 16,
        // Not JsonStringEnumConverter: it also reads "ImageSet,Video" (as Video: the flags syntax, on an enum without
        // [Flags]) and " imageset " (found by the fuzz cases).
        Converters = { new StrictEnumConverter<JobKind>() },
    };

    /// <summary>An enum by its exact name (any case); anything else, numbers included, is an error.</summary>
    sealed class StrictEnumConverter<T> : JsonConverter<T> where T : struct, Enum
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.String && reader.GetString() is { } text &&
                Enum.GetNames<T>().FirstOrDefault(n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase)) is { } name)
                return Enum.Parse<T>(name);
            throw new JsonException($"expected one of {string.Join(", ", Enum.GetNames<T>())}");
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
    }

    /// <summary>The spec, or the errors: deserialisation errors (one) or the validator's (one per field).</summary>
    public static (JobSpec? Spec, IReadOnlyList<string> Errors) Parse(string json, JobLimits limits)
    {
        var (spec, error) = Deserialize(json);
        if (error is not null) return (null, [error]);
        var errors = JobSpecValidator.Validate(spec, limits);
        return errors.Count > 0 ? (null, errors) : (spec, errors);
    }

    /// <summary>Only the JSON step: a spec of the right shape (possibly out of range), or one error naming the field.</summary>
    public static (JobSpec? Spec, string? Error) Deserialize(string json)
    {
        try
        {
            return (JsonSerializer.Deserialize<JobSpec>(json, Options), null);
        }
        catch (JsonException e)
        {
            return (null, Describe(e));
        }
    }

    static string Describe(JsonException e)
    {
        var where = e.LineNumber is { } line ? $" (line {line + 1}, byte {e.BytePositionInLine + 1})" : "";
        var message = e.Message;
        if (UnmappedProperty().Match(message) is { Success: true } unmapped)
            return $"{JobSpecValidator.Echo(unmapped.Groups[1].Value).Trim('\'')}: unknown property{where}";
        if (DuplicateProperty().Match(message) is { Success: true } duplicate)
            return $"{JobSpecValidator.Echo(duplicate.Groups[1].Value).Trim('\'')}: duplicate property{where}";
        var field = FieldOf(e.Path);
        if (field is null) return $"body: not a JSON object of a job spec{where}";
        var problem = e.InnerException is OverflowException || message.Contains("overflow", StringComparison.OrdinalIgnoreCase)
            ? "number out of range"
            : message.Contains("null", StringComparison.OrdinalIgnoreCase) && message.Contains("nullable", StringComparison.OrdinalIgnoreCase)
                ? "must not be null"
                : "wrong JSON type or value";
        return $"{field}: {problem}{where}";
    }

    /// <summary>"$.classes[3]" → "classes"; "$" or none → null.</summary>
    static string? FieldOf(string? path)
    {
        if (path is null || !path.StartsWith("$.", StringComparison.Ordinal)) return null;
        var name = path[2..];
        int end = name.IndexOfAny(['.', '[']);
        name = end < 0 ? name : name[..end];
        return name.Length == 0 ? null : char.ToLowerInvariant(name[0]) + name[1..];
    }

    /// <summary>The properties of a JSON object with their raw values (for building cases).</summary>
    public static IEnumerable<(string Name, string Raw)> Properties(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateObject().Select(p => (p.Name, p.Value.GetRawText())).ToList();
    }

    [GeneratedRegex("The JSON property '(.*)' could not be mapped", RegexOptions.Singleline)]
    private static partial Regex UnmappedProperty();

    [GeneratedRegex("[Dd]uplicate property '(.*?)'", RegexOptions.Singleline)]
    private static partial Regex DuplicateProperty();
}
