using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;
using Rectify.Api.Tests.Issues;

namespace Rectify.Api.Tests.Dashboard;

/// <summary>
/// Calls the dashboard tests share: the dashboard itself, and rounds built through the API (issues, sub-issues,
/// measures in every state) or, when they must be large, straight in SQL.
/// </summary>
public sealed class DashboardKit(RectifyApp app)
{
    public IssueKit Issues { get; } = new(app);

    public HttpClient Client => Issues.Client;

    public Seed Seed => Issues.Seed;

    public static string Url(string round) => $"/api/v1/rounds/{Uri.EscapeDataString(round)}/dashboard";

    public Task<JsonNode> DashboardAsync(string round) => Client.GetJsonAsync(Url(round));

    public async Task<long> IssueAsync(string round, string code, string category, long? parentId = null, string title = "殡葬改革推行不力",
        string dueDate = "2025-12-31")
        => IssueKit.Id(await Seed.IssueAsync(round, code: code, title: title, parentId: parentId, category: category, dueDate: dueDate));

    /// <summary>A measure under <paramref name="issueId"/> due on <paramref name="dueDate"/>, brought to <paramref name="state"/>.</summary>
    public async Task<long> MeasureAsync(long issueId, string code, string dueDate, string state = "planned", string owner = "HNMZT.SHSW", decimal? progress = null)
    {
        var id = IssueKit.Id(await Seed.MeasureAsync(issueId, dueDate, code, owner));
        // Progress moves a planned measure to in_progress on its own; the other states go through PUT.
        if (progress is { } percent) await Issues.ReportProgressAsync(id, percent);
        if (state != "planned" && !(state == "in_progress" && progress is > 0)) await Issues.SetMeasureStateAsync(id, state, state == "cancelled" ? "与其他措施合并实施" : null);
        return id;
    }

    /// <summary>
    /// Inserts <paramref name="count"/> measures (and the issues they belong to) into <paramref name="round"/> in two
    /// set-based statements: five areas (top-level issues 1–5) with one sub-issue each (1.1–5.1). Measure n belongs to
    /// <see cref="Generated"/>'s issue, state, progress and due date for n, so that tests can compute every figure.
    /// </summary>
    public async Task InsertMeasuresAsync(string round, int count, DateOnly today)
    {
        await app.ScalarAsync<int>("""
            WITH r AS (SELECT id FROM rounds WHERE code = @round),
            areas AS (
                INSERT INTO issues (round_id, code, title, category, state, due_date)
                SELECT r.id, a::text, '问题' || a, '领域' || a, 'in_progress', DATE '2025-12-31' FROM r, generate_series(1, 5) a
                RETURNING id, round_id, code
            )
            INSERT INTO issues (round_id, parent_id, code, title, category, state, due_date)
            SELECT round_id, id, code || '.1', '子问题' || code, '领域' || code, 'open', DATE '2025-12-31' FROM areas;
            SELECT 1;
            """, new { round });
        await app.ScalarAsync<int>("""
            INSERT INTO measures (issue_id, code, title, owner_unit_code, state, progress, due_date, cancel_reason, completed_on)
            SELECT i.id, 'M' || n, '措施' || n, CASE WHEN n % 2 = 0 THEN 'HNMZT.SHSW' ELSE 'HNMZT.SHJZ' END,
                   (ARRAY['planned', 'in_progress', 'done', 'cancelled'])[n % 4 + 1],
                   (ARRAY[0, 50, 100, 0])[n % 4 + 1],
                   @today + (n % 50 - 20),
                   CASE WHEN n % 4 = 3 THEN '合并实施' END,
                   CASE WHEN n % 4 = 2 THEN @today END
            FROM generate_series(1, @count) n
            JOIN rounds r ON r.code = @round
            JOIN issues i ON i.round_id = r.id AND i.code = CASE WHEN n % 10 < 5 THEN (n % 10 + 1)::text ELSE (n % 10 - 4)::text || '.1' END
            ORDER BY n; -- ids in the order of n, which the tests' expected lists break ties by
            SELECT 1;
            """, new { round, count, today });
    }

    /// <summary>What <see cref="InsertMeasuresAsync"/> inserts as measure <paramref name="n"/>: its area (1–5), state, progress and due date.</summary>
    public static (int Area, string State, decimal Progress, DateOnly DueDate) Generated(int n, DateOnly today)
    {
        var area = n % 10 < 5 ? n % 10 + 1 : n % 10 - 4;
        string[] states = ["planned", "in_progress", "done", "cancelled"];
        decimal[] progress = [0, 50, 100, 0];
        return (area, states[n % 4], progress[n % 4], today.AddDays(n % 50 - 20));
    }

    public static string Iso(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static int Int(JsonNode? node) => node!.GetValue<int>();

    public static decimal? Decimal(JsonNode? node) => node?.GetValue<decimal>();

    public static string? Text(JsonNode? node) => node?.GetValue<string>();

    /// <summary>The counts of a by-state object, in the given order of states.</summary>
    public static int[] Counts(JsonNode byState, params string[] states) => states.Select(s => Int(byState[s])).ToArray();

    public async Task ShouldBeNotFoundAsync(string round)
    {
        using var response = await Client.GetAsync(Url(round), TestContext.Current.CancellationToken);
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
    }
}
