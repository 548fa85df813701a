using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace BlobStorage;

/// <summary>Builds the outer retry: exponential backoff with jitter, transient failures only, bounded by a time budget.</summary>
internal static class BlobRetryPipeline
{
    /// <summary>When the operation's first attempt started (a <see cref="TimeProvider"/> timestamp).</summary>
    public static readonly ResiliencePropertyKey<long> StartedAt = new("BlobStorage.StartedAt");

    public static ResiliencePipeline Build(BlobRetryOptions options, ILogger logger, TimeProvider timeProvider)
    {
        var retry = new RetryStrategyOptions
        {
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.BaseDelay,
            MaxDelay = options.MaxDelay,
            MaxRetryAttempts = options.MaxRetryAttempts,
            ShouldHandle = arguments =>
            {
                var shouldRetry = arguments.Outcome.Exception is { } exception
                    && TransientFailures.IsTransient(exception, arguments.Context.CancellationToken)
                    && Elapsed(arguments.Context, timeProvider) < options.RetryBudget;
                return ValueTask.FromResult(shouldRetry);
            },
            OnRetry = arguments =>
            {
                logger.LogWarning(
                    "Blob operation {Operation} failed transiently (attempt {Attempt}, {Elapsed:0.0} s into its retry budget of {Budget:0.0} s); retrying in {Delay:0.00} s: {Error}",
                    arguments.Context.OperationKey,
                    arguments.AttemptNumber + 1,
                    Elapsed(arguments.Context, timeProvider).TotalSeconds,
                    options.RetryBudget.TotalSeconds,
                    arguments.RetryDelay.TotalSeconds,
                    arguments.Outcome.Exception?.Message);
                return ValueTask.CompletedTask;
            },
        };

        var builder = new ResiliencePipelineBuilder { TimeProvider = timeProvider };
        // Polly requires at least one attempt on a retry strategy; zero retries means no strategy at all.
        return options.MaxRetryAttempts > 0 ? builder.AddRetry(retry).Build() : builder.Build();
    }

    public static TimeSpan Elapsed(ResilienceContext context, TimeProvider timeProvider) =>
        context.Properties.TryGetValue(StartedAt, out var startedAt)
            ? timeProvider.GetElapsedTime(startedAt)
            : TimeSpan.Zero;
}
