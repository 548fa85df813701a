using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Grains.Interfaces;
using Microsoft.AspNetCore.Http;

namespace HttpApi;

/// <summary>
/// Reads a <see cref="JobSpec"/> from a request body strictly: a size limit, JSON only, no unknown properties
/// (a typo such as "frams" must not silently fall back to the default frame count), no duplicates, no numbers in
/// strings, no nulls where the spec has no null. Every problem names its field; range checks are left to the
/// cluster's validator so that they stay in one place.
/// </summary>
public static class JobSpecReader
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.Strict,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        Converters = { new JsonStringEnumConverter(allowIntegerValues: false) },
    };

    static readonly Dictionary<string, PropertyInfo> Properties = typeof(JobSpec)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanWrite)
        .ToDictionary(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name), StringComparer.OrdinalIgnoreCase);

    public sealed record Outcome(JobSpec? Spec, IResult? Problem);

    public static async Task<Outcome> ReadAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType()) return new(null, Problems.UnsupportedMediaType());
        if (request.ContentLength > maxBytes) return new(null, Problems.TooLarge(maxBytes));
        byte[] body;
        try
        {
            body = await ReadLimitedAsync(request.Body, maxBytes, cancellationToken);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new(null, Problems.TooLarge(maxBytes)); // the server-wide limit (Kestrel's 30 MB) was hit first
        }
        catch (PayloadTooLarge)
        {
            return new(null, Problems.TooLarge(maxBytes));
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            return new(null, Problems.Invalid("body", $"not valid JSON: {e.Message}"));
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return new(null, Problems.Invalid("body", $"must be a JSON object (a job spec), got {Describe(document.RootElement.ValueKind)}"));
            var errors = CheckProperties(document.RootElement);
            if (errors.Count > 0) return new(null, Problems.Invalid(errors, "The job spec is invalid"));
            return new(document.RootElement.Deserialize<JobSpec>(Json), null);
        }
    }

    static List<string> CheckProperties(JsonElement root)
    {
        var errors = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in root.EnumerateObject())
        {
            if (!Properties.TryGetValue(property.Name, out var target))
            {
                errors.Add($"{property.Name}: unknown property; a job spec has {string.Join(", ", Properties.Keys)}");
                continue;
            }
            var name = JsonNamingPolicy.CamelCase.ConvertName(target.Name);
            if (!seen.Add(name))
            {
                errors.Add($"{name}: given more than once");
                continue;
            }
            try
            {
                property.Value.Deserialize(target.PropertyType, Json);
                if (property.Value.ValueKind == JsonValueKind.Null && !AcceptsNull(target))
                    errors.Add($"{name}: must be {Expected(target)}, got null");
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException)
            {
                errors.Add($"{name}: must be {Expected(target)}, got {Describe(property.Value)}");
            }
        }
        return errors;
    }

    static bool AcceptsNull(PropertyInfo property) =>
        Nullable.GetUnderlyingType(property.PropertyType) is not null ||
        new NullabilityInfoContext().Create(property).WriteState == NullabilityState.Nullable;

    /// <summary>What a field must look like, in words, from its type.</summary>
    static string Expected(PropertyInfo property)
    {
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        var what = type switch
        {
            _ when type == typeof(int) || type == typeof(long) => "an integer",
            _ when type == typeof(ulong) => "a non-negative integer",
            _ when type == typeof(double) => "a number",
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(string) => "a string",
            _ when type == typeof(int[]) => "an array of integers",
            _ when type == typeof(double[]) => "an array of numbers",
            { IsEnum: true } => "one of " + string.Join(", ", Enum.GetNames(type).Select(n => $"\"{n}\"")),
            _ => type.Name,
        };
        return AcceptsNull(property) ? what + " or null" : what;
    }

    static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string {Clip(value.GetRawText())}",
        JsonValueKind.Number => $"the number {Clip(value.GetRawText())}",
        JsonValueKind.Array => "an array " + Clip(value.GetRawText()),
        _ => Describe(value.ValueKind),
    };

    static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "...";

    /// <summary>
    /// Counts what arrives, so chunked bodies (no Content-Length) are capped too. Lowering Kestrel's per-request
    /// limit instead would make Kestrel answer with its own empty 413 rather than our problem document.
    /// </summary>
    static async Task<byte[]> ReadLimitedAsync(Stream body, long maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes) throw new PayloadTooLarge();
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    sealed class PayloadTooLarge : Exception;
}
