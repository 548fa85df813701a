using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Grains.Interfaces;

/// <summary>
/// The one strict reader of a <see cref="JobSpec"/> from JSON (the HTTP API's bodies, the fuzz tests, any future
/// front end). Web defaults (camelCase, case-insensitive names) made strict: numbers only as numbers, no unknown
/// property (a typo such as "frams" must not silently fall back to the default frame count), no duplicate, no null
/// for a non-nullable field, enums only by their exact name, depth at most 16. Every problem is "field: what it must
/// be, got what"; whatever the client sent is echoed through <see cref="JobSpecValidator.Echo(string?)"/> (bounded,
/// escaped). Range checks are left to <see cref="JobSpecValidator"/> so that they stay in one place.
/// </summary>
public static class JobSpecJson
{
    public const int MaxDepth = 16;

    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.Strict,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
        RespectNullableAnnotations = true,
        MaxDepth = MaxDepth,
        // Not JsonStringEnumConverter: it also reads "ImageSet,Video" (as Video: the flags syntax, on an enum without
        // [Flags]) and " imageset " (found by the fuzz cases).
        Converters = { new StrictEnumConverter<JobKind>() },
    };

    static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = MaxDepth };

    /// <summary>The settable properties by their JSON (camelCase) name, looked up case-insensitively like the serializer.</summary>
    static readonly Dictionary<string, PropertyInfo> Properties = typeof(JobSpec)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanWrite)
        .ToDictionary(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name), StringComparer.OrdinalIgnoreCase);

    /// <summary>The spec (not yet range-checked), or the errors: one for a body that is not a JSON object, else one per bad property.</summary>
    public static (JobSpec? Spec, IReadOnlyList<FieldError> Errors) Read(string json) => Read(Encoding.UTF8.GetBytes(json));

    /// <inheritdoc cref="Read(string)"/>
    public static (JobSpec? Spec, IReadOnlyList<FieldError> Errors) Read(ReadOnlyMemory<byte> utf8)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, DocumentOptions);
        }
        catch (JsonException e)
        {
            return (null, [FieldError.Of("body", $"not valid JSON {Where(e)}: {JobSpecValidator.Echo(Reason(e))}")]);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return (null, [FieldError.Of("body", $"must be a JSON object (a job spec), got {Describe(root)}")]);
            var errors = CheckProperties(root);
            return errors.Count > 0 ? (null, errors) : (root.Deserialize<JobSpec>(Options), errors);
        }
    }

    static List<FieldError> CheckProperties(JsonElement root)
    {
        var errors = new List<FieldError>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            if (NameOf(property) is not { } propertyName)
            {
                errors.Add(FieldError.Of("body", $"a property name is not text ({NotText}); a job spec has {string.Join(", ", Properties.Keys)}"));
                continue;
            }
            if (!Properties.TryGetValue(propertyName, out var target))
            {
                errors.Add(FieldError.Of(FieldName(propertyName), $"unknown property {JobSpecValidator.Echo(propertyName)}; a job spec has {string.Join(", ", Properties.Keys)}"));
                continue;
            }
            var name = JsonNamingPolicy.CamelCase.ConvertName(target.Name);
            if (!seen.Add(name)) errors.Add(FieldError.Of(name, "given more than once"));
            else if (property.Value.ValueKind == JsonValueKind.Null)
            {
                if (!AcceptsNull(target)) errors.Add(FieldError.Of(name, $"must be {Expected(target)}, got null"));
            }
            else if (Misfit(property.Value, target.PropertyType) is { } misfit)
                errors.Add(FieldError.Of(name, $"must be {Expected(target)}, got {misfit}"));
        }
        return errors;
    }

    const string NotText = "invalid UTF-8, or an unpaired surrogate escape such as \\ud800";

    /// <summary>
    /// The property's name, or null when it is not text. The parser accepts invalid UTF-8 inside strings and unpaired
    /// surrogate escapes ("\ud800", pure ASCII), but neither can become a .NET string: reading one throws
    /// InvalidOperationException, which must become a 400 naming the body, not a 500.
    /// </summary>
    static string? NameOf(JsonProperty property)
    {
        try { return property.Name; }
        catch (InvalidOperationException) { return null; }
    }

    /// <summary>What in <paramref name="value"/> does not fit <paramref name="type"/> (for arrays: the first bad item), or null.</summary>
    static string? Misfit(JsonElement value, Type type)
    {
        if (TryConvert(value, type)) return null;
        var item = type.IsArray ? type.GetElementType()! : null;
        if (item is null || value.ValueKind != JsonValueKind.Array) return Describe(value);
        int index = 0;
        foreach (var element in value.EnumerateArray())
        {
            if (!TryConvert(element, item)) return $"{Describe(element)} at [{index}]";
            index++;
        }
        return Describe(value);
    }

    static bool TryConvert(JsonElement value, Type type)
    {
        try
        {
            value.Deserialize(type, Options);
            return true;
        }
        // InvalidOperationException: a string with a lone surrogate escape ("\ud800") cannot become a .NET string.
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException or FormatException)
        {
            return false;
        }
    }

    /// <summary>
    /// The errors of a 400 are keyed by their field. A plain name ("frams") is its own key so that a client sees its
    /// typo; anything else is reported under "body" (the name may hold colons, control or bidi characters, 10 MB).
    /// </summary>
    static string FieldName(string name) =>
        name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '$') ? name : "body";

    static bool AcceptsNull(PropertyInfo property) =>
        Nullable.GetUnderlyingType(property.PropertyType) is not null ||
        new NullabilityInfoContext().Create(property).WriteState == NullabilityState.Nullable;

    /// <summary>What a field must look like, in words, from its type.</summary>
    static string Expected(PropertyInfo property)
    {
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        var what = type switch
        {
            _ when type == typeof(int) => "an integer (32-bit)",
            _ when type == typeof(ulong) => "a non-negative integer (64-bit)",
            _ when type == typeof(double) => "a finite number",
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(string) => "a string",
            _ when type == typeof(int[]) => "an array of integers (32-bit)",
            _ when type == typeof(double[]) => "an array of finite numbers",
            { IsEnum: true } => "one of " + string.Join(", ", Enum.GetNames(type).Select(n => $"'{n}'")),
            _ => type.Name,
        };
        return AcceptsNull(property) ? what + " or null" : what;
    }

    /// <summary>A JSON value for an error message: its kind, and for scalars the value itself, bounded and escaped.</summary>
    static string Describe(JsonElement value) => value.ValueKind switch
    {
        // The raw text without its quotes: escapes stay escapes ("\ud800" cannot even become a .NET string).
        JsonValueKind.String => DescribeString(value),
        JsonValueKind.Number => "the number " + (value.GetRawText() is { Length: <= 64 } digits ? digits : JobSpecValidator.Echo(value.GetRawText())),
        JsonValueKind.Array => $"an array of {value.GetArrayLength()} items",
        JsonValueKind.Object => "an object",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    static string DescribeString(JsonElement value)
    {
        // The raw text holds escapes as escapes, but raw bytes as they came: invalid UTF-8 cannot be turned into text.
        try { return "the string " + JobSpecValidator.Echo(value.GetRawText()[1..^1]); }
        catch (InvalidOperationException) { return "a string that is not valid UTF-8"; }
    }

    static string Where(JsonException e) =>
        e.LineNumber is { } line ? $"at line {line + 1}, byte {e.BytePositionInLine + 1}" : "";

    /// <summary>The parser's reason without its own position suffix (given by <see cref="Where"/>).</summary>
    static string Reason(JsonException e)
    {
        int at = e.Message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (at < 0 ? e.Message : e.Message[..at]).TrimEnd('.', ' ');
    }

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
}
