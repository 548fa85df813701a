using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Cluster.Tests;

/// <summary>Small helpers for talking to the HTTP API like any HTTP client would: JSON in, JSON or events out.</summary>
static class HttpApiTesting
{
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>A body as bytes (which need not be UTF-8), labelled UTF-8 JSON like <see cref="Json"/>.</summary>
    public static ByteArrayContent JsonBytes(byte[] utf8)
    {
        var content = new ByteArrayContent(utf8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    public static async Task<JsonElement> JsonOf(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    /// <summary>Asserts the status and that the body is an RFC 7807 problem; returns it.</summary>
    public static async Task<JsonElement> ProblemOf(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"not a problem: {response} {body}");
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        return problem;
    }

    /// <summary>The messages a 400 lists for one field.</summary>
    public static string[] FieldErrors(JsonElement problem, string field) =>
        problem.GetProperty("errors").TryGetProperty(field, out var messages)
            ? messages.EnumerateArray().Select(m => m.GetString()!).ToArray()
            : throw new Xunit.Sdk.XunitException($"no error for '{field}' in {problem}");

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

    public sealed record ServerSentEvent(string Event, string? Id, JsonElement Data);

    /// <summary>Reads text/event-stream until the server ends the stream.</summary>
    public static async Task<List<ServerSentEvent>> ReadEventsAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        var events = new List<ServerSentEvent>();
        string type = "message";
        string? id = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0) events.Add(new ServerSentEvent(type, id, JsonDocument.Parse(data.ToString()).RootElement.Clone()));
                (type, id) = ("message", null);
                data.Clear();
            }
            else if (line.StartsWith("event:", StringComparison.Ordinal)) type = line["event:".Length..].Trim();
            else if (line.StartsWith("id:", StringComparison.Ordinal)) id = line["id:".Length..].Trim();
            else if (line.StartsWith("data:", StringComparison.Ordinal)) data.Append(line["data:".Length..].TrimStart());
        }
        return events;
    }

    public static HttpRequestMessage Get(string path, string? apiKey) => WithKey(new HttpRequestMessage(HttpMethod.Get, path), apiKey);

    public static HttpRequestMessage WithKey(HttpRequestMessage request, string? apiKey)
    {
        if (apiKey is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return request;
    }
}
