using System.Net;
using System.Text.Json.Nodes;

namespace Rectify.Api.Tests.Infrastructure;

/// <summary>
/// Creates the data a test needs through the API itself. Units are the reference case's codes; the migrations
/// create none, so <see cref="UnitsAsync"/> inserts a small tree first.
/// </summary>
public sealed class Seed(RectifyApp app)
{
    static int _sequence;
    readonly HttpClient _client = app.Client();

    public static string Unique(string prefix) => $"{prefix}-{Interlocked.Increment(ref _sequence)}";

    /// <summary>Province 460000 → city 460100 → district 460105; department HNMZT → divisions HNMZT.SHSW and HNMZT.SHJZ.</summary>
    public async Task UnitsAsync()
    {
        await app.ScalarAsync<int>("""
            INSERT INTO units (code, name, kind, parent_code) VALUES
              ('460000', '海南省', 'province', NULL),
              ('460100', '海口市', 'city', '460000'),
              ('460105', '秀英区', 'district', '460100'),
              ('HNMZT', '海南省民政厅', 'department', '460000'),
              ('HNMZT.SHSW', '社会事务处', 'division', 'HNMZT'),
              ('HNMZT.SHJZ', '社会救助处', 'division', 'HNMZT')
            ON CONFLICT DO NOTHING;
            SELECT 1;
            """);
    }

    public async Task<string> RoundAsync(string? code = null)
    {
        await UnitsAsync();
        code ??= Unique("R");
        using var response = await _client.PostJsonAsync("/api/v1/rounds", new
        {
            code, name = "八届省委第六轮巡视", inspectedUnit = "HNMZT", inspectionBody = "八届省委第六轮巡视第六巡视组",
            inspectionStart = "2024-09-01", inspectionEnd = "2024-12-31", feedbackDate = "2025-02-28", rectificationDeadline = "2025-05-31",
            state = "rectifying",
        });
        await response.ShouldBeAsync(HttpStatusCode.Created);
        return code;
    }

    public async Task<JsonNode> IssueAsync(string round, string? code = null, string title = "殡葬改革推行不力", long? parentId = null,
        string? dueDate = "2025-12-31", string? description = null, string category = "殡葬管理")
    {
        using var response = await _client.PostJsonAsync("/api/v1/issues", new
        {
            round, code = code ?? Unique("I"), title, description, category, leadUnit = "HNMZT.SHSW", responsibleLeader = "厅党组书记、厅长",
            dueDate, parentId,
        });
        return await response.ShouldBeAsync(HttpStatusCode.Created);
    }

    public async Task<JsonNode> MeasureAsync(long issueId, string dueDate = "2025-12-31", string? code = null, string owner = "HNMZT.SHSW")
    {
        using var response = await _client.PostJsonAsync("/api/v1/measures", new
        {
            issueId, code = code ?? Unique("M"), title = "整治殡葬乱象", ownerUnit = owner, startDate = "2025-03-01", dueDate,
        });
        return await response.ShouldBeAsync(HttpStatusCode.Created);
    }
}
