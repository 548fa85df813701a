using System.CommandLine;
using BlobStorage;

namespace Cli;

/// <summary>Where `fetch` reads blobs: the local folder (default out/blobs) or Azure Blob Storage / Azurite.</summary>
public sealed class BlobOptions
{
    readonly Option<string> local = new("--blob-path") { Description = "Local blob folder of the cluster.", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("SCM_Blob__LocalPath") ?? "out/blobs" };
    readonly Option<string?> azure = new("--azure-connection") { Description = "Azure Storage connection string (default: env SCM_Blob__AzureConnectionString); switches to Azure." };
    readonly Option<string> container = new("--container") { Description = "Azure container.", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("SCM_Blob__Container") ?? "scm" };

    public static BlobOptions Add(Command command)
    {
        var o = new BlobOptions();
        command.Options.Add(o.local);
        command.Options.Add(o.azure);
        command.Options.Add(o.container);
        return o;
    }

    public IBlobStore Create(ParseResult r)
    {
        var connection = r.GetValue(azure) ?? Environment.GetEnvironmentVariable("SCM_Blob__AzureConnectionString");
        return BlobStoreFactory.Create(connection is null
            ? new BlobStorageOptions { Provider = BlobStorageOptions.LocalProvider, LocalPath = r.GetValue(local)! }
            : new BlobStorageOptions { Provider = BlobStorageOptions.AzureProvider, AzureConnectionString = connection, Container = r.GetValue(container)! });
    }
}
