using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace HttpApi;

/// <summary>
/// The web console: static HTML, CSS and JavaScript embedded in this assembly (HttpApi/Console), served at /console/
/// by the silo's HTTP host. The files need no key and carry no data; every piece of data the console shows comes from
/// fetch() calls to the /v1 routes with the key the user typed in (kept in the tab's sessionStorage, sent as
/// "Authorization: Bearer"), so the console has exactly the API's authorisation and no way around it.
/// </summary>
public static class ConsoleEndpoints
{
    public const string Path = "/console";

    /// <summary>
    /// Only the console's own files may run or load (no inline script or style, no other origin); images and the video
    /// come from blob: URLs made of fetched bytes, data from this origin's API. Nothing may frame the console.
    /// </summary>
    public const string ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; " +
        "media-src 'self' blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    static readonly Lazy<FrozenDictionary<string, ConsoleFile>> Files = new(Load);

    public static WebApplication MapConsole(this WebApplication app)
    {
        // Nothing else lives at the root; a browser pointed at the silo lands on the console.
        app.MapGet("/", () => Results.Redirect(Path + "/")).ExcludeFromDescription();
        app.MapGet(Path + "/{**file}", Serve).ExcludeFromDescription();
        return app;
    }

    static IResult Serve(HttpContext http, string? file)
    {
        // Routing matches "/console" here too; the page's relative links (console.css, js/app.js) need the slash.
        if (!http.Request.Path.Value!.EndsWith('/') && string.IsNullOrEmpty(file)) return Results.Redirect(Path + "/");
        // The console is one page; its views are fragments (#/jobs), so every other name is a file or nothing.
        if (!Files.Value.TryGetValue(string.IsNullOrEmpty(file) ? "index.html" : file, out var found))
            return Results.NotFound();
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        // Revalidated on every load (a 304 while unchanged), so a silo upgrade reaches open browsers at the next reload.
        headers.CacheControl = "no-cache";
        return Results.Bytes(found.Bytes, found.ContentType, entityTag: found.ETag);
    }

    static FrozenDictionary<string, ConsoleFile> Load()
    {
        var assembly = typeof(ConsoleEndpoints).Assembly;
        const string prefix = "console/";
        return assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal))
            .ToFrozenDictionary(n => n[prefix.Length..], n => ConsoleFile.Read(assembly, n), StringComparer.Ordinal);
    }

    sealed record ConsoleFile(byte[] Bytes, string ContentType, EntityTagHeaderValue ETag)
    {
        public static ConsoleFile Read(Assembly assembly, string name)
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            return new ConsoleFile(bytes, ContentTypeOf(name), new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..32]}\""));
        }

        static string ContentTypeOf(string name) => System.IO.Path.GetExtension(name) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            ".svg" => "image/svg+xml",
            ".png" => "image/png",
            _ => "application/octet-stream",
        };
    }
}
