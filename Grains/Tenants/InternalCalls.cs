using System.Security.Cryptography;
using System.Text;
using Grains.Options;

namespace Grains.Tenants;

/// <summary>
/// What tells a call made by a silo of this cluster from a call that came in through a gateway. An Orleans client
/// chooses everything it sends: its client id (the gateway only checks that it parses as one), and at the wire level
/// even the sending grain id and the request context; the gateway overwrites only the sending silo, with its own
/// address, which is also what a silo-local call carries. So no field of a message can be trusted, but a secret can:
/// every silo stamps each call it makes (from grains, system targets, hosted services, the in-silo HTTP API) with a
/// token derived from <see cref="ClusterHostOptions.InternalCallSecret"/>, and <see cref="ClientCallFilter"/> lets
/// only stamped calls reach anything but the public API grain. The token never goes to a client (the stamp is
/// removed from calls to clients, and it is set only for the duration of one outgoing call, so a response to a
/// client, which carries the responder's request context, never holds it). Nor can a stamped call leave it behind for
/// a later unstamped one: Orleans starts activations with the execution context's flow suppressed and queues turns
/// without it, so each request runs in the context it brought (were it otherwise, an outsider's call to an activation
/// that a silo had created would pass <see cref="IsPresent"/>; GatewayBypassTests calls such activations).
/// </summary>
public sealed class InternalCallToken
{
    public const string ContextKey = "scm.internal";
    // Silos in one process (the demo, benches, in-process test clusters) share this when no secret is configured;
    // nothing outside the process can know it.
    static readonly string ProcessSecret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    readonly byte[] expected;

    public InternalCallToken(string? configuredSecret)
    {
        var secret = configuredSecret is { Length: > 0 } ? configuredSecret : ProcessSecret;
        // Derived rather than the secret itself, so the configured text never travels between silos.
        expected = SHA256.HashData(Encoding.UTF8.GetBytes("scm internal call v1\n" + secret));
        Value = Convert.ToBase64String(expected);
    }

    public string Value { get; }

    /// <summary>Whether the current call's request context carries this cluster's token (constant-time compare).</summary>
    public bool IsPresent()
    {
        if (RequestContext.Get(ContextKey) is not string presented || presented.Length != Value.Length) return false;
        Span<byte> bytes = stackalloc byte[32];
        return Convert.TryFromBase64String(presented, bytes, out var n) && n == 32 && CryptographicOperations.FixedTimeEquals(bytes, expected);
    }
}

/// <summary>Stamps every call a silo makes with <see cref="InternalCallToken"/>, except calls to clients.</summary>
public sealed class InternalCallStamp(InternalCallToken token) : IOutgoingGrainCallFilter
{
    // Async on purpose: the request context change stays inside this call (an async method restores the caller's
    // execution context), so the caller's later response to an external client does not carry the token.
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (context.TargetId.Type.IsClient()) RequestContext.Remove(InternalCallToken.ContextKey);
        else RequestContext.Set(InternalCallToken.ContextKey, token.Value);
        await context.Invoke();
    }
}
