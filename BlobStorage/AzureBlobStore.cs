using System.Runtime.CompilerServices;
using Azure;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;

namespace BlobStorage;

/// <summary>
/// Blobs in an Azure Storage container (or Azurite). The container is created on first use.
/// Transient failures are retried per <see cref="BlobRetryOptions"/>; when the budget is spent the operation throws an
/// <see cref="IOException"/> wrapping the last failure. Other failures (4xx) surface at once as <see cref="RequestFailedException"/>.
/// </summary>
/// <remarks>
/// The listing order is the service's: ordinal for ordinary names. Azure sorts by UTF-8 bytes, which differs from
/// UTF-16 ordinal only when names mix characters above U+FFFF with ones in U+E000..U+FFFF.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The SemaphoreSlim is never asked for its wait handle: it holds nothing to dispose.")]
public sealed class AzureBlobStore : IBlobStore
{
    /// <summary>
    /// Azurite 3.37 rejects the SDK's default (newest) service version; this one is accepted by it and by Azure.
    /// </summary>
    public const BlobClientOptions.ServiceVersion PinnedServiceVersion = BlobClientOptions.ServiceVersion.V2025_11_05;

    private const int ListPageSize = 1000;
    private static readonly TimeSpan SdkRetryDelay = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan SdkRetryMaxDelay = TimeSpan.FromSeconds(1);

    private readonly BlobContainerClient container;
    private readonly ResiliencePipeline retryPipeline;
    private readonly TimeProvider timeProvider;
    private readonly SemaphoreSlim containerCreation = new(1, 1);
    private volatile bool containerExists;

    public AzureBlobStore(string connectionString, string containerName, BlobRetryOptions? retry = null, ILogger<AzureBlobStore>? logger = null)
        : this(connectionString, containerName, retry ?? new BlobRetryOptions(), logger, transport: null, timeProvider: null)
    {
    }

    /// <summary>Tests pass a fake <paramref name="transport"/> to inject failures.</summary>
    internal AzureBlobStore(
        string connectionString,
        string containerName,
        BlobRetryOptions retry,
        ILogger? logger,
        HttpPipelineTransport? transport,
        TimeProvider? timeProvider)
    {
        new BlobStorageOptions
        {
            Provider = BlobStorageOptions.AzureProvider,
            AzureConnectionString = connectionString,
            Container = containerName,
            Retry = retry,
        }.Validate();

        var clientOptions = new BlobClientOptions(PinnedServiceVersion);
        clientOptions.Retry.Mode = Azure.Core.RetryMode.Exponential;
        clientOptions.Retry.MaxRetries = retry.SdkMaxRetries;
        clientOptions.Retry.Delay = SdkRetryDelay;
        clientOptions.Retry.MaxDelay = SdkRetryMaxDelay;
        clientOptions.Retry.NetworkTimeout = retry.AttemptTimeout;
        if (transport is not null)
        {
            clientOptions.Transport = transport;
        }

        container = new BlobServiceClient(connectionString, clientOptions).GetBlobContainerClient(containerName);
        this.timeProvider = timeProvider ?? TimeProvider.System;
        retryPipeline = BlobRetryPipeline.Build(retry, logger ?? NullLogger.Instance, this.timeProvider);
    }

    public string Location => $"azure {container.Uri}";

    public Task PutAsync(string name, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default)
    {
        BlobNames.Validate(name);
        ArgumentNullException.ThrowIfNull(contentType);
        var options = new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = contentType.Length == 0 ? "application/octet-stream" : contentType },
        };

        return ExecuteAsync(
            "put",
            name,
            async token =>
            {
                await EnsureContainerExistsAsync(token).ConfigureAwait(false);
                var blob = container.GetBlobClient(name);
                try
                {
                    await blob.UploadAsync(BinaryData.FromBytes(content), options, token).ConfigureAwait(false);
                }
                catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.ContainerNotFound)
                {
                    // Someone deleted the container (or an emulator restarted empty) since we created it.
                    containerExists = false;
                    await EnsureContainerExistsAsync(token).ConfigureAwait(false);
                    await blob.UploadAsync(BinaryData.FromBytes(content), options, token).ConfigureAwait(false);
                }

                return true;
            },
            cancellationToken);
    }

    public Task<byte[]?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        BlobNames.Validate(name);
        return ExecuteAsync<byte[]?>(
            "get",
            name,
            async token =>
            {
                try
                {
                    var download = await container.GetBlobClient(name).DownloadContentAsync(token).ConfigureAwait(false);
                    return download.Value.Content.ToArray();
                }
                catch (RequestFailedException e) when (e.Status == 404)
                {
                    return null; // no such blob, or no container yet: either way the blob does not exist
                }
            },
            cancellationToken);
    }

    /// <summary>
    /// The SDK's lazily downloading, seekable stream: only opening (which reads the blob's properties) is retried here;
    /// the chunks it fetches later go through the SDK's own retries.
    /// </summary>
    public Task<Stream?> OpenReadAsync(string name, CancellationToken cancellationToken = default)
    {
        BlobNames.Validate(name);
        return ExecuteAsync<Stream?>(
            "open",
            name,
            async token =>
            {
                try
                {
                    return await container.GetBlobClient(name).OpenReadAsync(new BlobOpenReadOptions(allowModifications: false), token).ConfigureAwait(false);
                }
                catch (RequestFailedException e) when (e.Status == 404)
                {
                    return null;
                }
            },
            cancellationToken);
    }

    public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        BlobNames.Validate(name);
        return ExecuteAsync(
            "exists",
            name,
            async token =>
            {
                try
                {
                    return (await container.GetBlobClient(name).ExistsAsync(token).ConfigureAwait(false)).Value;
                }
                catch (RequestFailedException e) when (e.Status == 404)
                {
                    return false;
                }
            },
            cancellationToken);
    }

    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        BlobNames.ValidatePrefix(prefix);
        string? continuation = null;
        do
        {
            // Each page is one retried call, resuming from the last continuation token, so an outage mid-listing
            // neither restarts the listing nor repeats names already yielded.
            var pageContinuation = continuation;
            var (names, next) = await ExecuteAsync(
                "list",
                prefix,
                token => ReadPageAsync(prefix, pageContinuation, token),
                cancellationToken).ConfigureAwait(false);
            foreach (var name in names)
            {
                yield return name;
            }

            continuation = next;
        }
        while (!string.IsNullOrEmpty(continuation));
    }

    public Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        BlobNames.Validate(name);
        return ExecuteAsync(
            "delete",
            name,
            async token =>
            {
                try
                {
                    await container.GetBlobClient(name)
                        .DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: token)
                        .ConfigureAwait(false);
                }
                catch (RequestFailedException e) when (e.Status == 404)
                {
                    // No container, so no blob: deleting it is done.
                }

                return true;
            },
            cancellationToken);
    }

    private async Task<(IReadOnlyList<string> Names, string? Continuation)> ReadPageAsync(string prefix, string? continuation, CancellationToken cancellationToken)
    {
        var listing = container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix.Length == 0 ? null : prefix }, cancellationToken);
        try
        {
            await foreach (var page in listing.AsPages(continuation, ListPageSize).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                return (page.Values.Select(item => item.Name).ToList(), page.ContinuationToken);
            }
        }
        catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.ContainerNotFound)
        {
            // Nothing was ever written.
        }

        return ([], null);
    }

    private async ValueTask EnsureContainerExistsAsync(CancellationToken cancellationToken)
    {
        if (containerExists)
        {
            return;
        }

        await containerCreation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!containerExists)
            {
                await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                containerExists = true;
            }
        }
        finally
        {
            containerCreation.Release();
        }
    }

    private async Task<T> ExecuteAsync<T>(string operation, string name, Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get($"{operation} \"{name}\"", cancellationToken);
        context.Properties.Set(BlobRetryPipeline.StartedAt, timeProvider.GetTimestamp());
        try
        {
            return await retryPipeline.ExecuteAsync(
                static async (resilienceContext, state) => await state(resilienceContext.CancellationToken).ConfigureAwait(false),
                context,
                action).ConfigureAwait(false);
        }
        catch (Exception e) when (TransientFailures.IsTransient(e, cancellationToken))
        {
            var elapsed = BlobRetryPipeline.Elapsed(context, timeProvider);
            throw new IOException(
                $"Blob {operation} of \"{name}\" in {Location} still failing after retrying for {elapsed.TotalSeconds:0.0} s: {e.Message}",
                e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }
}
