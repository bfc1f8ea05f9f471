using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Linkage.Azure.Tests.Infrastructure;

/// <summary>
/// A loopback TCP forwarder in front of a real server (the Cosmos stand-in, Azurite), which a test switches to make that
/// server look down and then come back on the same address, as an outage would: <see cref="GateMode.Refuse"/> resets
/// every connection (a stopped server), <see cref="GateMode.Hold"/> accepts and never answers until opened (a hung one).
/// </summary>
internal sealed class TcpGate : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _upstreamPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Socket, byte> _live = new();
    private readonly Task _accepting;
    private volatile GateMode _mode;

    public TcpGate(int upstreamPort, GateMode mode = GateMode.Open)
    {
        _upstreamPort = upstreamPort;
        _mode = mode;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary><paramref name="upstream"/> with its port replaced by the gate's.</summary>
    public string Rewrite(string upstream) => new UriBuilder(upstream) { Port = Port }.Uri.AbsoluteUri;

    /// <summary>Switches the gate; <see cref="GateMode.Refuse"/> also resets the connections already open.</summary>
    public GateMode Mode
    {
        get => _mode;
        set
        {
            _mode = value;
            if (value == GateMode.Refuse)
            {
                foreach (var socket in _live.Keys)
                {
                    Reset(socket);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var socket in _live.Keys)
        {
            Reset(socket);
        }

        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptSocketAsync(_stop.Token);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(Socket client)
    {
        _live[client] = 0;
        try
        {
            while (_mode == GateMode.Hold && !_stop.IsCancellationRequested)
            {
                await Task.Delay(50);
            }

            if (_mode == GateMode.Refuse || _stop.IsCancellationRequested)
            {
                Reset(client);
                return;
            }

            using var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort);
            _live[upstream] = 0;
            try
            {
                await Task.WhenAny(PumpAsync(client, upstream), PumpAsync(upstream, client));
            }
            finally
            {
                _live.TryRemove(upstream, out _);
                Reset(upstream);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            // a reset by the gate or either side: the connection is over
        }
        finally
        {
            _live.TryRemove(client, out _);
            Reset(client);
        }
    }

    private static async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int n;
            while ((n = await from.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Closes with RST (linger 0), as a process that died would leave its peer.</summary>
    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }
}

internal enum GateMode
{
    /// <summary>Forwards to the server.</summary>
    Open,

    /// <summary>Resets every connection: the server is down.</summary>
    Refuse,

    /// <summary>Accepts but does not answer until the gate opens (or refuses): the server hangs.</summary>
    Hold,
}
