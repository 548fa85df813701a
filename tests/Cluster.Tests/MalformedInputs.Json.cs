using System.Text;
using System.Text.Json;

namespace Cluster.Tests;

/// <summary>
/// A malformed JSON job spec. <see cref="Field"/>: the JSON property the error must name ("body" for a root that is
/// not an object); null for a body that is not JSON at all (syntax, trailing data, depth), whose one error must say
/// where (line and byte) instead. <see cref="Utf8"/>: the body as bytes where it is not UTF-8 (which a string cannot
/// hold); <see cref="Json"/> is then only a readable stand-in.
/// </summary>
public sealed record JsonCase(string Name, string Json, string? Field, string? Limit = null, byte[]? Utf8 = null)
{
    /// <summary>The bytes to send.</summary>
    public byte[] Body => Utf8 ?? Encoding.UTF8.GetBytes(Json);

    public override string ToString() => Name;
}

public static partial class MalformedInputs
{
    /// <summary>The request bodies only, for front ends that assert their own error format.</summary>
    public static IEnumerable<(string Name, string Json)> Json() => JsonCases().Where(c => c.Utf8 is null).Select(c => (c.Name, c.Json));

    /// <summary>A valid body as the HTTP API would get it (camelCase, enum as a string).</summary>
    public const string ValidJson = """{"kind":"ImageSet","modelId":"tiny","classes":[1,2],"frames":4,"steps":1,"outputSize":16,"seed":5}""";

    /// <summary>
    /// ValidJson with one property replaced (or added) by a raw JSON value.
    /// </summary>
    public static string With(string property, string rawValue)
    {
        using var valid = JsonDocument.Parse(ValidJson);
        var without = valid.RootElement.EnumerateObject().Where(p => p.Name != property).Select(p => $"\"{p.Name}\":{p.Value.GetRawText()}");
        return "{" + string.Join(",", without.Append($"\"{property}\":{rawValue}")) + "}";
    }

    public static IEnumerable<JsonCase> JsonCases()
    {
        // Wrong JSON types for every field.
        string[] notANumber = ["\"16\"", "\"\"", "true", "null", "{}", "[]", "[4]", "\"0x10\"", "\"1e3\""];
        foreach (var field in new[] { "frames", "fps", "steps", "outputSize", "priority", "seed" })
            foreach (var raw in notANumber)
                yield return new($"{field} = {raw}", With(field, raw), field);
        foreach (var field in new[] { "frames", "fps", "steps", "outputSize", "priority", "itemFrames" })
            foreach (var raw in new[] { "16.5", "1e10", "2147483648", "-2147483649", "1e400", "99999999999999999999999" })
                yield return new($"{field} = {raw}", With(field, raw), field);
        foreach (var raw in new[] { "-1", "18446744073709551616", "1.5", "-0.0" })
            yield return new($"seed = {raw}", With("seed", raw), "seed");
        foreach (var raw in new[] { "\"4\"", "4.5", "{}", "true" })
            yield return new($"itemFrames = {raw}", With("itemFrames", raw), "itemFrames");
        foreach (var raw in new[] { "5", "0", "\"Sculpture\"", "\"\"", "\"imageset \"", "null", "{}", "[\"Video\"]", "\"ImageSet,Video\"" })
            yield return new($"kind = {raw}", With("kind", raw), "kind");
        foreach (var raw in new[] { "5", "null", "{}", "[\"tiny\"]", "true", "\"\"", "\"../tiny\"", "\"ti\\u0000ny\"", "\"\\u202Etiny\"", "\"\\ud800\"" })
            yield return new($"modelId = {raw}", With("modelId", raw), "modelId");
        foreach (var raw in new[] { "\"1,2\"", "{\"0\":1}", "1", "[\"1\"]", "[1.5]", "[null]", "[true]", "[[1]]", "null", "[]", "[2147483648]", "[-1e400]", "{}" })
            yield return new($"classes = {raw}", With("classes", raw), "classes");
        foreach (var raw in new[] { "\"NaN\"", "\"Infinity\"", "\"1\"", "null", "[]", "1e400", "-1e400", "-1", "11" })
            yield return new($"guidance = {raw}", With("guidance", raw), "guidance");
        foreach (var raw in new[] { "\"1.1\"", "[\"1.1\"]", "{}", "1.1", "[[1.1]]", "[1e400]", "[\"NaN\"]", "[1.1, 1.2]" })
            yield return new($"intermediateTimes = {raw}", With("intermediateTimes", raw), "intermediateTimes");
        foreach (var raw in new[] { "1", "null", "[]", "{}", "true", "\"BILINEAR\"", "\"\"" })
            yield return new($"resize = {raw}", With("resize", raw), "resize");
        foreach (var raw in new[] { "\"true\"", "1", "null", "[]" })
            yield return new($"mp4 = {raw}", With("mp4", raw), "mp4");

        // Values of the right type but out of range, seen through JSON.
        yield return new("frames 0", With("frames", "0"), "frames", "10000");
        yield return new("frames 10001", With("frames", "10001"), "frames", "10000");
        yield return new("outputSize 100000", With("outputSize", "100000"), "outputSize", "1024");
        yield return new("classes 65", With("classes", "[" + string.Join(",", Enumerable.Repeat(0, 65)) + "]"), "classes", "64");
        yield return new("classes 1M (6 MB body)", With("classes", "[" + string.Join(",", Enumerable.Repeat(1, 1_000_000)) + "]"), "classes", "64");
        yield return new("modelId 10 MB", With("modelId", "\"" + Huge() + "\""), "modelId", "128");
        yield return new("resize 10 MB", With("resize", "\"" + Huge('r') + "\""), "resize");
        yield return new("frames case-insensitive 0", ValidJson.Replace("\"frames\":4", "\"FRAMES\":0"), "frames", "10000");

        // Unknown and duplicate properties.
        // (name as written in JSON, what the error must contain)
        (string Json, string Field)[] unknownNames =
        [
            ("frame", "frame"), ("model", "model"), ("tenant", "tenant"), ("__proto__", "__proto__"), ("constructor", "constructor"),
            ("", "property"), (" frames", "frames"), ("frames\\u0000", "frames"), ("frames\\u202E", "frames"), ("$type", "type"), ("$id", "id"), ("$ref", "ref"),
        ];
        foreach (var (name, field) in unknownNames)
            yield return new($"unknown property '{name}'", With(name, "1"), field);
        yield return new("duplicate frames", ValidJson.TrimEnd('}') + ",\"frames\":5000}", "frames");
        yield return new("duplicate modelId", ValidJson.TrimEnd('}') + ",\"modelId\":\"other\"}", "modelId");
        yield return new("duplicate differing case", ValidJson.TrimEnd('}') + ",\"Frames\":5}", "frames");

        // Not a JSON object: syntax, trailing data, wrong root, depth, encoding.
        yield return new("empty body", "", null);
        yield return new("whitespace body", "  \n ", null);
        yield return new("null root", "null", "body");
        yield return new("array root", "[" + ValidJson + "]", "body");
        yield return new("number root", "42", "body");
        yield return new("string root", "\"" + ValidJson.Replace("\"", "\\\"") + "\"", "body");
        yield return new("trailing garbage", ValidJson + " x", null);
        yield return new("trailing object", ValidJson + ValidJson, null);
        yield return new("trailing brace", ValidJson + "}", null);
        yield return new("truncated", ValidJson[..^5], null);
        yield return new("trailing comma", ValidJson.TrimEnd('}') + ",}", null);
        yield return new("comment", "/* hi */" + ValidJson, null);
        yield return new("single quotes", ValidJson.Replace('"', '\''), null);
        yield return new("unquoted name", ValidJson.Replace("\"frames\"", "frames"), null);
        yield return new("NaN literal", With("guidance", "NaN"), null);
        yield return new("nested 100 deep in unknown property", With("x", new string('[', 100) + new string(']', 100)), null);
        yield return new("nested 10k deep", new string('[', 10_000) + new string(']', 10_000), null);
        yield return new("nested objects 1k deep in classes", With("classes", Nest(1_000)), null);
        yield return new("byte order mark", "\uFEFF" + ValidJson, null);
        yield return new("nul byte", ValidJson.Insert(1, "\0"), null);

        // Strings that are not text: the parser lets invalid UTF-8 and unpaired surrogate escapes through, and they
        // blow up only when read as .NET strings. In a property name the error names the body, in a value its field.
        foreach (var c in NotText()) yield return c;
    }

    static IEnumerable<JsonCase> NotText()
    {
        (string Name, byte[] Bytes)[] bad =
        [
            ("0xFF", [0xFF]), ("truncated 0xC3", [0xC3]), ("overlong '/'", [0xC0, 0xAF]), ("UTF-8 surrogate", [0xED, 0xA0, 0x80]),
            ("0xF5 (past U+10FFFF)", [0xF5, 0x80, 0x80, 0x80]), ("a then 0xFE", [(byte)'a', 0xFE]),
        ];
        foreach (var (name, bytes) in bad)
        {
            yield return Raw($"property name {name}", With("@@", "1").Replace("\"@@\"", "\"@@RAW@@\""), bytes, "body");
            yield return Raw($"property name {name} alone", "{\"@@RAW@@\":1}", bytes, "body");
            foreach (var field in new[] { "modelId", "kind", "resize" })
                yield return Raw($"{field} = {name}", With(field, "\"@@RAW@@\""), bytes, field);
            yield return Raw($"classes = [{name}]", With("classes", "[\"@@RAW@@\"]"), bytes, "classes");
            yield return Raw($"seed = object with name {name}", With("seed", "{\"@@RAW@@\":1}"), bytes, "seed");
            yield return Raw($"unknown property x = {name}", With("x", "\"@@RAW@@\""), bytes, "x");
        }
        foreach (var escape in new[] { "\\ud800", "\\udfff", "\\ud800\\u0041", "a\\udbff" })
        {
            yield return new($"property name '{escape}'", "{\"" + escape + "\":1}", "body");
            yield return new($"property name '{escape}' after valid ones", With("@@", "1").Replace("@@", escape), "body");
            yield return new($"kind = '{escape}'", With("kind", "\"" + escape + "\""), "kind");
            yield return new($"classes = object with name '{escape}'", With("classes", "{\"" + escape + "\":1}"), "classes");
        }
    }

    /// <summary>The case's JSON with the marker @@RAW@@ replaced by raw bytes.</summary>
    static JsonCase Raw(string name, string json, byte[] bytes, string field)
    {
        var utf8 = Encoding.UTF8.GetBytes(json);
        var marker = "@@RAW@@"u8.ToArray();
        int at = utf8.AsSpan().IndexOf(marker);
        var body = utf8[..at].Concat(bytes).Concat(utf8[(at + marker.Length)..]).ToArray();
        return new(name, json.Replace("@@RAW@@", "\uFFFD"), field, Utf8: body);
    }

    static string Nest(int depth)
    {
        var text = new StringBuilder();
        for (int i = 0; i < depth; i++) text.Append("{\"a\":");
        text.Append('1');
        return text.Append('}', depth).ToString();
    }
}
