using BlobStorage;
using Grains.Hosting;
using Grains.Interfaces;
using HttpApi;
using Silo;

// A silo of the generation cluster. Configuration: appsettings.json, then SCM_* environment variables
// (e.g. SCM_Cluster__Clustering=Redis), then the command line (--Cluster:SiloPort=11112).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Configuration.AddEnvironmentVariables("SCM_");
builder.Configuration.AddCommandLine(args);
foreach (var warning in RenamedSettings.Apply(builder.Configuration)) Console.Error.WriteLine($"warning: {warning}");
var problems = SiloConfiguration.Problems(builder.Configuration);
if (problems.Count > 0)
{
    Console.Error.WriteLine("Invalid configuration:\n  " + string.Join("\n  ", problems));
    return 2;
}
var http = ValidatedOptions.Read<SiloHttpOptions>(builder.Configuration.GetSection(SiloHttpOptions.Section));
builder.Logging.AddSiloConsole(builder.Configuration); // timestamps by default; Logging:Format=Json for shippers
builder.Services.AddBlobStore(builder.Configuration.GetSection("Blob"));
builder.UseOrleans(silo => silo.UseConfiguredClustering(builder.Configuration).AddGenerationCluster(builder.Configuration)
    .AddSiloDashboard(builder.Configuration));
builder.Services.AddValidatedOptions<SiloHttpOptions>(builder.Configuration.GetSection(SiloHttpOptions.Section));
builder.Services.AddValidatedOptions<SiloLogOptions>(builder.Configuration.GetSection(SiloLogOptions.Section));
// HTTPS when a certificate is configured (Http:CertificatePath): the API carries keys and tenants' outputs.
builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(http.Port, listen =>
{
    if (http.Https) listen.UseHttps(http.CertificatePath!, http.CertificatePassword);
}));
// Host:ShutdownTimeout bounds the graceful stop (Orleans leaves the membership, grains deactivate) after SIGTERM;
// a pod's terminationGracePeriodSeconds must be longer (infra/k8s).
builder.Services.Configure<HostOptions>(builder.Configuration.GetSection("Host"));
builder.Services.AddSiloHealthChecks();
builder.Services.AddSiloMetrics(builder.Configuration);
builder.AddHttpApi(); // HttpApi:Enabled (default true): /v1 routes and /openapi/v1.json

var app = builder.Build();
app.MapSiloHealth();
app.MapSiloObservability();
app.MapHttpApi();
await app.RunAsync();
return 0;
