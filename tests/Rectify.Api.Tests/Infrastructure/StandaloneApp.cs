using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Rectify.Api.Tests.Infrastructure;

/// <summary>
/// The real service over the real HTTP pipeline, on a database the test names (a cluster of its own, a proxy in
/// front of an unreachable one), with the real clock and any other settings the test needs.
/// </summary>
public sealed class StandaloneApp(string connectionString, IReadOnlyDictionary<string, string>? settings = null) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:Rectify", connectionString);
        builder.UseSetting("Database:LoadDemoData", "false");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        // Load and concurrency tests send more than a client's default rate allows; rate limits are tested elsewhere.
        builder.UseSetting("Rectify:Access:RequestsPerMinute", "100000");
        builder.UseSetting("Rectify:Access:PushesPerMinute", "10000");
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) builder.UseSetting(key, value);
    }

    /// <summary>The key every client of this app sends (set it once the database is reachable: <see cref="TestKeys"/>).</summary>
    public string? ApiKey { get; set; }

    protected override void ConfigureClient(HttpClient client)
    {
        base.ConfigureClient(client);
        if (ApiKey is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
    }

    /// <summary>A client whose every request is bounded by <paramref name="timeout"/>, so that a hang fails the test.</summary>
    public HttpClient Client(TimeSpan? timeout = null)
    {
        var client = CreateClient();
        client.Timeout = timeout ?? TimeSpan.FromSeconds(30);
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }
}
