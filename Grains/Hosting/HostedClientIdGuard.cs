using System.Buffers;
using System.Buffers.Binary;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Grains.Hosting;

/// <summary>
/// Closes a gateway connection whose client claims the id of a silo's hosted client ("hosted-{silo address}").
/// A gateway looks up the connection of a client id before the silo's own hosted client when it delivers a message
/// to a client (Orleans 10's MessageCenter.TryDeliverToProxy), and a new connection with a known id replaces the old
/// one; so a client with that id would receive the responses meant for the hosted client: the in-silo HTTP API's
/// answers (job statuses, newly issued API keys) and the worker starter's, while those callers time out. The id
/// travels in the connection's preamble (a 4-byte little-endian length and at most 1,024 serialized bytes) as the raw
/// UTF-8 bytes of the key, so this peeks at the preamble before Orleans reads it, without consuming anything.
/// </summary>
public static class HostedClientIdGuard
{
    const int MaxPreambleLength = 1024;
    static readonly byte[] HostedPrefix = "hosted-"u8.ToArray();

    public static ISiloBuilder RefuseHostedClientIdsAtGateway(this ISiloBuilder silo) =>
        silo.Configure<SiloConnectionOptions>(options => options.ConfigureGatewayInboundConnection(connection =>
        {
            var logger = connection.ApplicationServices.GetService<ILoggerFactory>()?.CreateLogger(typeof(HostedClientIdGuard).FullName!);
            connection.Use(next => context => GuardAsync(context, next, logger));
        }));

    static async Task GuardAsync(ConnectionContext context, ConnectionDelegate next, ILogger? logger)
    {
        var input = context.Transport.Input;
        while (true)
        {
            var result = await input.ReadAsync(context.ConnectionClosed);
            var buffer = result.Buffer;
            if (buffer.Length >= 4)
            {
                int length = BinaryPrimitives.ReadInt32LittleEndian(buffer.Slice(0, 4).ToArray());
                // A bad length is Orleans' to refuse; a complete preamble is ours to check.
                if (length is < 0 or > MaxPreambleLength || buffer.Length >= 4 + length)
                {
                    bool hosted = length is >= 0 and <= MaxPreambleLength && Contains(buffer.Slice(4, length), HostedPrefix);
                    input.AdvanceTo(buffer.Start); // nothing consumed: Orleans reads the same bytes next
                    if (hosted)
                    {
                        logger?.LogWarning("Closed gateway connection {Connection} from {Remote}: its client id claims to be a silo's hosted client",
                            context.ConnectionId, context.RemoteEndPoint);
                        context.Abort(new ConnectionAbortedException("a client may not use a silo's hosted client id"));
                        return;
                    }
                    break;
                }
            }
            if (result.IsCompleted || result.IsCanceled)
            {
                input.AdvanceTo(buffer.Start);
                break;
            }
            input.AdvanceTo(buffer.Start, buffer.End); // wait for more
        }
        await next(context);
    }

    // At most 1 KB: copying it is simpler than searching across segments.
    static bool Contains(ReadOnlySequence<byte> haystack, byte[] needle) => haystack.ToArray().AsSpan().IndexOf(needle) >= 0;
}
