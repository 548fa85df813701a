using Grains.Interfaces;

namespace Grains.Tenants;

/// <summary>
/// Keeps external clients on the public API: a call that arrives from a client (not from another grain) to any of
/// this cluster's grains other than <see cref="ClusterApiGrain"/> is refused, so a client with gateway access cannot
/// bypass authentication by calling a coordinator, tenant, key or scheduler grain directly. Orleans' own system
/// grains (e.g. the management grain used by `scmctl cluster`) are not affected. Configuration
/// Tenants:RestrictClientCalls (default true).
/// </summary>
public sealed class ClientCallFilter : IIncomingGrainCallFilter
{
    static readonly System.Reflection.Assembly Ours = typeof(ClusterApiGrain).Assembly;

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.SourceId is { } source && IsExternalClient(source) && context.Grain is not ClusterApiGrain && context.Grain.GetType().Assembly == Ours)
            throw new ApiAuthException(AuthProblem.NotPermitted,
                $"clients may only call the cluster API (IClusterApiGrain), not {context.InterfaceMethod?.DeclaringType?.Name}.{context.InterfaceMethod?.Name}");
        return context.Invoke();
    }

    /// <summary>
    /// A client that is not a silo's own hosted client. Orleans keys each silo's hosted client (used by hosted
    /// services such as <c>WorkerStarter</c>, and by a co-hosted client like the demo's) "hosted-{silo address}";
    /// external clients get a random key.
    /// </summary>
    static bool IsExternalClient(GrainId source) =>
        source.Type.IsClient() && !source.Key.ToString().StartsWith("hosted-", StringComparison.Ordinal);
}
