// An integrator's program against Rectify over the client NSwag generates from openapi/v1.json (System.Text.Json),
// used as generated: no edits, no casts of its results. Exits non-zero on any failure.
// RECTIFY_URL: the service's base address; RECTIFY_KEY: an API key with every scope; RECTIFY_RUN: a suffix for codes.
using System.Net.Http.Headers;
using Rectify.Clients.Generated;
using static ProgramChecks;

const string Round = "HN-8-6-6";
var run = Environment.GetEnvironmentVariable("RECTIFY_RUN") ?? DateTime.UtcNow.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture);
using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Required("RECTIFY_KEY"));
var client = new RectifyClient(Required("RECTIFY_URL"), http);

return await RunAsync(async () =>
{
    var dashboard = await client.GetRoundDashboardAsync(Round);
    Check(dashboard.Round == Round && dashboard.Totals.Issues > 0, "the dashboard counts the round's issues");
    var today = dashboard.AsOf;

    var issues = await client.ListIssuesAsync(round: Round, limit: 50);
    var first = issues.Items.First();
    Check(issues.Items.All(i => i.AllowedTransitions.All(Enum.IsDefined)), "every allowed transition is an issue state");
    Check(issues.Items.Any(i => i.State == IssueState.In_progress && i.AllowedTransitions.Contains(IssueState.Long_term)),
        "an issue in progress may become long-term (enum wire names read, in arrays too)");
    var issue = await client.GetIssueAsync(first.Id);
    Check(issue.Id == first.Id && issue.Round == Round, "the issue read is the one listed");

    // A round of one's own, created with a state: the enum goes out as its wire name.
    var roundCode = $"CS-{run}";
    var round = await client.CreateRoundAsync(new CreateRoundRequest
    {
        Code = roundCode, Name = "生成的客户端：C#", InspectedUnit = "HNMZT", InspectionBody = "省委第六巡视组",
        InspectionStart = today.AddMonths(-3), InspectionEnd = today.AddMonths(-1), State = RoundState.Rectifying,
    });
    Check(round.State == RoundState.Rectifying, $"the round was created rectifying, not {round.State}");
    var ownIssue = await client.CreateIssueAsync(new CreateIssueRequest { Round = roundCode, Code = "1", Title = "生成的客户端问题" });

    var measure = await client.CreateMeasureAsync(new CreateMeasureRequest
    {
        IssueId = ownIssue.Id, Code = "1.1", Title = "生成的客户端措施", OwnerUnit = "460000", DueDate = today.AddDays(60),
    });
    Check(measure.State == MeasureState.Planned && measure.AllowedTransitions.Contains(MeasureState.In_progress),
        "a new measure is planned and may start");
    var progress = await client.AddMeasureProgressAsync(measure.Id, new AddProgressRequest { ReportedOn = today, Percent = 40m, Note = "已完成方案制定" });
    Check(progress.Percent == 40m, "the progress entry says 40%");
    var running = await client.ListMeasuresAsync(round: roundCode, state: MeasureState.In_progress);
    Check(running.Items.Count == 1 && running.Items.Single().AllowedTransitions.Contains(MeasureState.Done),
        "the measure is listed in progress (a query enum sent as its wire name) and may be done");

    try
    {
        await client.ImportDataValuesAsync(
            [
                new DataValueInput { Indicator = "LOTTERY-SALES", Unit = "460000", Period = "2025-09", Value = 8520m },
                new DataValueInput { Indicator = $"NO-SUCH-INDICATOR-{run}", Unit = "460000", Period = "2025-09", Value = 1m },
            ],
            atomic: true);
        throw new InvalidOperationException("An atomic push with a bad row was accepted.");
    }
    catch (ApiException<ImportRejectedProblem> refused)
    {
        var summary = refused.Result.Summary ?? throw new InvalidOperationException("The refusal carries no summary.");
        Check(refused.StatusCode == 422 && !summary.Applied && summary.Rejected == 1 && summary.Received == 2, $"summary: {refused.Response}");
        Check(summary.Errors.Any(e => e.Row == 2), "the bad row is named");
    }

    var series = await client.GetIndicatorSeriesAsync("LOTTERY-SALES", unit: "460000", from: "2025-01", to: "2025-10");
    Check(series.Points.Count > 0 && series.Frequency == IndicatorFrequency.Monthly, "the series has monthly points");

    var journal =
        await client.ListJournalAsync(entity: JournalEntity.Measure,
        entityId: measure.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
    var created = journal.Items.Single(e => e.Action == "create");
    Check(created.Before is null && created.After is not null && created.After["code"].ToString() == "1.1",
        "the journal's after holds the measure's fields");
    Check(journal.Items.Any(e => e.Before is not null && e.After is not null), "the journal holds the progress with before and after");

    var html = await TextAsync(client.GetProgressReportAsync(Round, period: "2025-10", format: Format.Html));
    Check(html.StartsWith("<!DOCTYPE html>", StringComparison.Ordinal), "the HTML report is a page");
    var markdown = await TextAsync(client.GetProgressReportAsync(Round, period: "2025-10", format: Format.Md));
    Check(markdown.StartsWith("# ", StringComparison.Ordinal) && markdown.Contains("整改进展情况", StringComparison.Ordinal),
        "the Markdown report is Markdown");

    Console.WriteLine($"NSwag client: {issues.Items.Count} issues, round {round.Code}, measure {measure.Id}, {series.Points.Count} points, reports " +
        $"{html.Length}/{markdown.Length} chars");
});

// A text answer comes as a file (a stream): read it as the UTF-8 text it is.
static async Task<string> TextAsync(Task<FileResponse> answer)
{
    using var file = await answer;
    using var reader = new StreamReader(file.Stream);
    return await reader.ReadToEndAsync();
}
