using System.Net.Http.Headers;
using System.Text;
using Grains.Interfaces;
using Orleans.Dashboard;

namespace Silo;

/// <summary>
/// Section "Dashboard": the Orleans Dashboard under <see cref="Path"/> on the silo's HTTP port. Off by default; when on,
/// every request under the path needs an API key, as <c>Authorization: Bearer scm_...</c> or as the password of HTTP Basic
/// (any user name; what a browser prompts for). Accepted: the key whose hash is <see cref="KeyHash"/>, and, with
/// <see cref="AcceptAdminKeys"/>, any admin API key of the cluster (checked by the cluster's API grain, so revoked keys fail).
/// </summary>
public sealed class SiloDashboardOptions : IValidatedOptions
{
    public const string Section = "Dashboard";

    public bool Enabled { get; set; }
    public string Path { get; set; } = "/dashboard";
    /// <summary>A dashboard key as "keyId:saltBase64:hashBase64" (`scmctl tenant admin-key` prints one).</summary>
    public string? KeyHash { get; set; }
    public bool AcceptAdminKeys { get; set; } = true;

    public IEnumerable<string> Problems()
    {
        if (!Enabled) yield break;
        if (string.IsNullOrWhiteSpace(Path) || !Path.StartsWith('/') || Path == "/")
            yield return $"{Section}:Path must start with '/' and not be the root (got '{Path}').";
        if (!string.IsNullOrWhiteSpace(KeyHash) && !TryParseKeyHash(KeyHash, out _))
            yield return $"{Section}:KeyHash must be 'keyId:saltBase64:hashBase64' (see `scmctl tenant admin-key`).";
    }

    /// <summary>
    /// A rule across sections, part of the silo's start-up report: a dashboard that no credential opens is a mistake
    /// (it needs its own key, or admin API keys, which exist only once Tenants:AdminKeyHash bootstraps the first).
    /// </summary>
    public IEnumerable<string> CredentialProblems(TenantOptions tenants)
    {
        bool adminKeys = AcceptAdminKeys && !string.IsNullOrWhiteSpace(tenants.AdminKeyHash);
        if (Enabled && string.IsNullOrWhiteSpace(KeyHash) && !adminKeys)
            yield return $"{Section}:KeyHash is required when {Section}:Enabled is true (or set Tenants:AdminKeyHash and keep " +
                $"{Section}:AcceptAdminKeys on, so that admin API keys open it).";
    }

    public static SiloDashboardOptions From(IConfiguration configuration) =>
        ValidatedOptions.Read<SiloDashboardOptions>(configuration.GetSection(Section));

    internal static bool TryParseKeyHash(string line, out (string KeyId, byte[] Salt, byte[] Hash) key)
    {
        key = default;
        try
        {
            if (ApiKeys.ParseHashLine(line) is not { } parsed) return false;
            key = parsed;
            return true;
        }
        catch (FormatException) { return false; }
    }
}

public static class SiloDashboard
{
    /// <summary>Registers the dashboard's grains and services on the silo, only when switched on.</summary>
    public static ISiloBuilder AddSiloDashboard(this ISiloBuilder silo, IConfiguration configuration)
    {
        if (SiloDashboardOptions.From(configuration).Enabled) silo.AddDashboard();
        return silo;
    }

    /// <summary>Maps the dashboard (when on) behind the credential check; when off its path is simply not found.</summary>
    public static WebApplication MapSiloDashboard(this WebApplication app)
    {
        var options = SiloDashboardOptions.From(app.Configuration);
        if (!options.Enabled) return app;
        var guard = new DashboardGuard(options, app.Services.GetRequiredService<IGrainFactory>(), app.Logger);
        // Middleware rather than endpoint metadata: it covers every route and static file the dashboard maps under its path.
        app.UseWhen(context => context.Request.Path.StartsWithSegments(options.Path), branch => branch.Use(async (context, next) =>
        {
            if (await guard.IsAuthorizedAsync(context.Request.Headers.Authorization.ToString()))
            {
                await next(context);
                return;
            }
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"scm-dashboard\", charset=\"UTF-8\"";
        }));
        app.MapOrleansDashboard(options.Path);
        return app;
    }

    sealed class DashboardGuard(SiloDashboardOptions options, IGrainFactory grains, ILogger logger)
    {
        readonly (string KeyId, byte[] Salt, byte[] Hash)? ownKey =
            SiloDashboardOptions.TryParseKeyHash(options.KeyHash ?? "", out var key) ? key : null;

        public async Task<bool> IsAuthorizedAsync(string authorization)
        {
            var apiKey = KeyFrom(authorization);
            if (apiKey is null) return false;
            string keyId, secret;
            try { (keyId, secret) = ApiKeys.Parse(apiKey); }
            catch (ApiAuthException) { return false; }
            if (ownKey is { } own && own.KeyId == keyId && ApiKeys.Matches(own.Salt, own.Hash, secret)) return true;
            if (!options.AcceptAdminKeys) return false;
            try { return (await grains.GetGrain<IClusterApiGrain>(0).WhoAmI(apiKey)).IsAdmin; }
            catch (ApiAuthException) { return false; }
            catch (Exception e)
            {
                logger.LogWarning(e, "Dashboard: could not check an API key with the cluster");
                return false;
            }
        }

        /// <summary>The key from "Bearer KEY" or "Basic base64(user:KEY)"; null when neither.</summary>
        static string? KeyFrom(string authorization)
        {
            if (!AuthenticationHeaderValue.TryParse(authorization, out var header) || header.Parameter is null) return null;
            if (header.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase)) return header.Parameter;
            if (!header.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase)) return null;
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
                int colon = pair.IndexOf(':');
                return colon < 0 ? null : pair[(colon + 1)..];
            }
            catch (FormatException) { return null; }
        }
    }
}
