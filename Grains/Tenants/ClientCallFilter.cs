using Grains.Interfaces;
using Microsoft.Extensions.Logging;

namespace Grains.Tenants;

/// <summary>
/// Keeps callers from outside the silos on the public API: a call that does not carry this cluster's
/// <see cref="InternalCallToken"/> may reach only <see cref="ClusterApiGrain"/> (which authenticates every call by API
/// key) and the cluster manifest that a stock Orleans client fetches when it connects. Everything else is refused,
/// whoever the caller claims to be: coordinators, tenants, keys, the scheduler, and Orleans' own grains and system
/// targets (the management grain would list every activation, i.e. every tenant, job and key id, and can force
/// deactivations). Configuration Tenants:RestrictClientCalls (default true; tests of internals turn it off).
/// </summary>
public sealed class ClientCallFilter(InternalCallToken token, ILogger<ClientCallFilter> logger) : IIncomingGrainCallFilter
{
    /// <summary>The system target a client asks for the cluster's grain types; it holds no tenant data.</summary>
    static readonly GrainType ManifestProvider = GrainType.Create(GrainTypePrefix.SystemTargetPrefix + "manifest");
    /// <summary>
    /// Registered only by Orleans.TestingHost (its client waits on it for the test cluster to stabilise); a production
    /// silo has no such target, so allowing it opens nothing there.
    /// </summary>
    static readonly GrainType TestHooks = GrainType.Create(GrainTypePrefix.SystemTargetPrefix + "test.hooks");

    /// <summary>
    /// A grain timer's tick reaches its grain as a message too, but one built inside the silo and handed straight to
    /// the activation, not sent through a grain reference, so it is not stamped. Its body is this private type, which
    /// has no serializer: no message from the network can carry one. Resolved once, loudly, so that an Orleans update
    /// that renames it stops the silo instead of silently refusing every timer.
    /// </summary>
    static readonly Type TimerTick = typeof(IGrainFactory).Assembly.GetType("Orleans.Runtime.GrainTimer+TimerTickInvoker")
        ?? Type.GetType("Orleans.Runtime.GrainTimer+TimerTickInvoker, Orleans.Runtime")
        ?? throw new InvalidOperationException("Orleans.Runtime.GrainTimer+TimerTickInvoker not found: ClientCallFilter must learn how this Orleans version delivers timer ticks");

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (token.IsPresent() || context.Request.GetType() == TimerTick || context.Grain is ClusterApiGrain
            || context.TargetId.Type.Equals(ManifestProvider) || context.TargetId.Type.Equals(TestHooks))
            return context.Invoke();
        var method = $"{context.InterfaceMethod?.DeclaringType?.Name}.{context.InterfaceMethod?.Name}";
        logger.LogWarning("Refused a call to {Method} on {Target} from {Source}: it does not come from a silo of this cluster",
            method, context.TargetId, context.SourceId);
        throw new ApiAuthException(AuthProblem.NotPermitted, $"clients may only call the cluster API (IClusterApiGrain), not {method}");
    }
}
