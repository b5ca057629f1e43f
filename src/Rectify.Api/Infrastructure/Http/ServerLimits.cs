using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Rectify.Api.Infrastructure.Http;

public sealed class ServerLimitsOptions
{
    public const string Section = "Rectify:Http";

    /// <summary>Largest request body outside the push (which sets its own, larger limit).</summary>
    public long MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>A sender slower than this (after a grace period) is cut off, so it cannot hold the server or a database connection.</summary>
    public double MinBodyBytesPerSecond { get; set; } = 240;

    public TimeSpan MinBodyRateGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(15);

    public int MaxRequestHeadersTotalBytes { get; set; } = 32 * 1024;

    /// <summary>On SIGTERM, how long in-flight requests (a push included) may take to finish before they are cancelled and rolled back.</summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(30);
}

public static class ServerLimits
{
    /// <summary>Kestrel's limits and the shutdown grace period, from <see cref="ServerLimitsOptions"/>.</summary>
    public static WebApplicationBuilder ConfigureServerLimits(this WebApplicationBuilder builder)
    {
        var limits = builder.Configuration.GetSection(ServerLimitsOptions.Section).Get<ServerLimitsOptions>() ?? new ServerLimitsOptions();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = limits.MaxBodyBytes;
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(limits.MinBodyBytesPerSecond, limits.MinBodyRateGracePeriod);
            kestrel.Limits.RequestHeadersTimeout = limits.RequestHeadersTimeout;
            kestrel.Limits.MaxRequestHeadersTotalSize = limits.MaxRequestHeadersTotalBytes;
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = limits.ShutdownGracePeriod);
        return builder;
    }
}
