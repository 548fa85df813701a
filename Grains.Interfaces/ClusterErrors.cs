namespace Grains.Interfaces;

/// <summary>
/// The cluster's storage (Redis: grain state, membership, reminders) did not answer or refused a write; nothing the
/// caller did was wrong, and the same call is worth repeating after <see cref="RetryAfterSeconds"/>. It replaces the
/// storage client's own exceptions at every grain-call boundary: those either cannot cross the wire at all
/// (StackExchange.Redis' <c>RedisTimeoutException</c> has no codec: the caller got a <c>CodecNotFoundException</c>) or
/// carry ~2 KB of connection diagnostics into an operator's terminal. The cause's first line stays in the message.
/// </summary>
[GenerateSerializer]
public sealed class StorageUnavailableException : Exception
{
    [Id(0)] public string Cause { get; }
    [Id(1)] public int RetryAfterSeconds { get; }

    public StorageUnavailableException(string cause, int retryAfterSeconds = 5) : base($"storage unavailable, retry: {cause}")
    {
        Cause = cause;
        RetryAfterSeconds = retryAfterSeconds;
    }

    public override string Message => $"storage unavailable, retry: {Cause}";
}

/// <summary>
/// A grain failed with an exception whose type cannot be serialised (it would reach the caller as a
/// <c>CodecNotFoundException</c> naming an internal type). Keeps the original type's name and first line only.
/// </summary>
[GenerateSerializer]
public sealed class ClusterCallException : Exception
{
    [Id(0)] public string OriginalType { get; }
    [Id(1)] public string Detail { get; }

    public ClusterCallException(string originalType, string detail) : base($"{originalType}: {detail}")
    {
        OriginalType = originalType;
        Detail = detail;
    }

    public override string Message => $"{OriginalType}: {Detail}";
}
