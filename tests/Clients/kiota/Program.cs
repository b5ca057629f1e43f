// An integrator's program against Rectify over the client Kiota generates from openapi/v1.json, used as generated.
// Exits non-zero on any failure. RECTIFY_URL: the service's base address; RECTIFY_KEY: an API key.
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary;
using Rectify.Clients.Kiota.Generated;
using Rectify.Clients.Kiota.Generated.Api.V1.Rounds.Item.Report;
using Rectify.Clients.Kiota.Generated.Models;
using static ProgramChecks;

const string Round = "HN-8-6-6";
// Kiota's ApiKeyAuthenticationProvider sends keys over https only; the test service listens on plain loopback http,
// so the key goes on the HttpClient the adapter uses.
using var http = KiotaClientFactory.Create();
http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Required("RECTIFY_KEY"));
var adapter = new HttpClientRequestAdapter(new AnonymousAuthenticationProvider(), httpClient: http) { BaseUrl = Required("RECTIFY_URL") };
var client = new RectifyKiotaClient(adapter);

return await RunAsync(async () =>
{
    var issues = await client.Api.V1.Issues.GetAsync(c => { c.QueryParameters.Round = Round; c.QueryParameters.Limit = 50; });
    var first = issues?.Items?.FirstOrDefault() ?? throw new InvalidOperationException("The round has no issues.");
    Check(first.AllowedTransitions is { Count: > 0 }, "the issue lists its allowed transitions");
    var issue = await client.Api.V1.Issues[first.Id ?? 0].GetAsync();
    Check(issue?.Id == first.Id && issue?.State is not null, "the issue read is the one listed, with its state");

    var dashboard = await client.Api.V1.Rounds[Round].Dashboard.GetAsync();
    Check(dashboard?.Round == Round && dashboard.Totals?.Issues > 0, "the dashboard counts the round's issues");

    await using var report = await client.Api.V1.Rounds[Round].Report.GetAsync(c =>
    {
        c.QueryParameters.Period = "2025-10";
        c.QueryParameters.Format = GetFormatQueryParameterType.Md;
    }) ?? throw new InvalidOperationException("The report is empty.");
    using var reader = new StreamReader(report);
    var markdown = await reader.ReadToEndAsync();
    Check(markdown.StartsWith("# ", StringComparison.Ordinal), "the Markdown report is Markdown");

    Console.WriteLine($"Kiota client: {issues.Items.Count} issues, issue {issue?.Code} {issue?.State}, report {markdown.Length} chars");
});
