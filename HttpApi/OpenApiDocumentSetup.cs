using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace HttpApi;

/// <summary>The OpenAPI document (/openapi/v1.json): the /v1 routes only, and the API key as a bearer scheme.</summary>
static class OpenApiDocumentSetup
{
    public const string BearerScheme = "ApiKey";
    public const string HeaderScheme = "X-Api-Key";

    public static void Configure(OpenApiOptions options)
    {
        // Health and metrics endpoints are for probes and scrapers, not API clients.
        options.ShouldInclude = description => description.RelativePath?.StartsWith("v1/", StringComparison.Ordinal) == true;
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "sCM generation cluster",
                Version = "v1",
                Description = "Submit image-set and video jobs, follow their progress, download frames, MP4 and manifest. " +
                    "Every request carries a tenant API key (scm_<keyId>_<secret>) as 'Authorization: Bearer' or 'X-Api-Key'. " +
                    "Errors are RFC 7807 problem details; another tenant's job answers 404 like a missing one.",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http, Scheme = "bearer", BearerFormat = "scm_<keyId>_<secret>",
                Description = "Tenant API key (scmctl tenant create / rotate-key).",
            };
            document.Components.SecuritySchemes[HeaderScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = ClusterApiCaller.ApiKeyHeader,
                Description = "The same key in a header, for clients that cannot set Authorization.",
            };
            // Either scheme satisfies a request: two alternative requirements.
            document.Security =
            [
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] },
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(HeaderScheme, document)] = [] },
            ];
            return Task.CompletedTask;
        });
    }
}
