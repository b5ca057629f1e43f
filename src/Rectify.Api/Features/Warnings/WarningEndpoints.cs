using Microsoft.AspNetCore.Http.HttpResults;
using Rectify.Api.Features.Snapshots;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.OpenApi;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Warnings;

public static class WarningEndpoints
{
    public static IEndpointRouteBuilder MapWarnings(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1").WithTags("Warnings");

        group.MapGet("/rounds/{round}/warnings", List).RequireScope(Scopes.Read)
            .WithName("ListRoundWarnings")
            .WithSummary("List a round's current warnings (提醒预警)")
            .WithDescription($"The round's unfinished issues and measures at a warning level today (configured time zone): red when overdue, " +
                $"yellow when due within Rectify:DueSoonDays, notice within Rectify:NoticeDays; counted by level and by owner unit (a measure's " +
                $"owner, an issue's lead unit), each item with who the level escalates to (Rectify:Warnings:Escalation) and since when it is at it " +
                $"(as the daily job recorded). Red first, then the earliest due. A client whose reads are limited to units sees its units' items. " +
                $"Answers JSON only: the same items as one CSV file is GET {ExportPath} (an Accept that prefers text/csv is a 406 naming it).")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status406NotAcceptable)
            .WithEnumQueryParameter<WarningLevel>("level")
            .WithEnumQueryParameter<WarningItemKind>("kind")
            .WithExample(response: Examples.Warnings);

        group.MapGet("/rounds/{round}/warnings/export", Export).RequireScope(Scopes.Read)
            .WithName("ExportRoundWarnings")
            .WithSummary("Export a round's current warnings as CSV")
            .WithDescription("The items of GET /api/v1/rounds/{round}/warnings (same filters), in its order, as one CSV file (warnings.csv, UTF-8 " +
                "with BOM) for spreadsheets.")
            .ProducesCsv($"Every item at a warning level, most urgent first, UTF-8 with BOM, CRLF, header {CsvExport.HeaderText(CsvColumns)}.",
                CsvExport.Text(CsvColumns, Examples.Warnings.Items))
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithEnumQueryParameter<WarningLevel>("level")
            .WithEnumQueryParameter<WarningItemKind>("kind");

        group.MapGet("/measures/{id:long}/warnings", MeasureChanges).RequireScope(Scopes.Read)
            .WithName("ListMeasureWarningChanges")
            .WithSummary("List a measure's warning level changes")
            .WithDescription("Every change of the measure's warning level the daily job recorded (entering notice, yellow or red, or leaving the " +
                "warnings), dated, with the escalation then, oldest first.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithExample(response: new[] { Examples.Change });

        group.MapGet("/issues/{id:long}/warnings", IssueChanges).RequireScope(Scopes.Read)
            .WithName("ListIssueWarningChanges")
            .WithSummary("List an issue's warning level changes")
            .WithDescription("Every change of the issue's own warning level the daily job recorded (its measures have their own), dated, with the " +
                "escalation then, oldest first.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithExample(response: new[] { Examples.Change with { Kind = WarningItemKind.Issue, ItemId = 1, Code = "1", OwnerUnit = "HNMZT.SHSW" } });

        return routes;
    }

    const string ExportPath = "/api/v1/rounds/{round}/warnings/export";

    static async Task<Ok<RoundWarningsResponse>> List(string round, [AsParameters] RoundWarningsQuery query, WarningUseCases warnings,
        HttpContext http,
        CancellationToken ct)
    {
        CsvExport.RefuseCsv(http, ExportPath.Replace("{round}", round, StringComparison.Ordinal));
        return TypedResults.Ok(await warnings.RoundAsync(round, query, ct));
    }

    static async Task<IResult> Export(string round, [AsParameters] RoundWarningsQuery query, WarningUseCases warnings, CancellationToken ct)
    {
        var list = await warnings.RoundAsync(round, query, ct);
        return CsvExport.File("warnings.csv", CsvColumns, list.Items.ToAsyncEnumerable(), ct);
    }

    static async Task<Ok<IReadOnlyList<WarningChangeResponse>>> MeasureChanges(long id, WarningUseCases warnings, CancellationToken ct)
        => TypedResults.Ok(await warnings.MeasureChangesAsync(id, ct));

    static async Task<Ok<IReadOnlyList<WarningChangeResponse>>> IssueChanges(long id, WarningUseCases warnings, CancellationToken ct)
        => TypedResults.Ok(await warnings.IssueChangesAsync(id, ct));

    static readonly CsvColumn<WarningItem>[] CsvColumns =
    [
        new("kind", w => EnumText.Format(w.Kind)), new("id", w => w.Id), new("code", w => w.Code), new("issueId", w => w.IssueId),
        new("issueCode", w => w.IssueCode), new("title", w => w.Title), new("ownerUnit", w => w.OwnerUnit), new("leadUnit", w => w.LeadUnit),
        new("responsibleLeader", w => w.ResponsibleLeader), new("state", w => w.State), new("dueDate", w => w.DueDate),
            new("daysLeft", w => w.DaysLeft),
        new("level", w => EnumText.Format(w.Level)), new("since", w => w.Since), new("escalateTo", w => EnumText.Format(w.EscalateTo)),
        new("escalationTarget", w => w.EscalationTarget),
    ];

    /// <summary>Issue 1 of the reference case (due 2026-06-30) as it stands on 2026-06-25: yellow, escalated to its lead unit.</summary>
    static class Examples
    {
        static readonly WarningItem Item = new()
        {
            Kind = WarningItemKind.Issue, Id = 1, Code = "1", IssueId = 1, IssueCode = "1", Title = "殡葬改革推行不力",
            OwnerUnit = "HNMZT.SHSW", LeadUnit = "HNMZT.SHSW", ResponsibleLeader = "厅党组书记、厅长", State = "in_progress",
            DueDate = new DateOnly(2026, 6, 30), DaysLeft = 5, Level = WarningLevel.Yellow, Since = new DateOnly(2026, 6, 20),
            EscalateTo = EscalationTo.LeadUnit, EscalationTarget = "HNMZT.SHSW",
        };

        public static readonly RoundWarningsResponse Warnings = new()
        {
            Round = "HN-8-6-6", AsOf = new DateOnly(2026, 6, 25), YellowUntil = new DateOnly(2026, 7, 5), NoticeUntil = new DateOnly(2026, 7, 15),
            ByLevel = new WarningCounts(0, 1, 0), ByOwnerUnit = [new UnitWarnings("HNMZT.SHSW", "社会事务处", 0, 1, 0)], Items = [Item],
        };

        public static readonly WarningChangeResponse Change = new()
        {
            Id = 7, Kind = WarningItemKind.Measure, ItemId = 2, Round = "HN-8-6-6", Code = "1.2", OwnerUnit = "HNMZT.SHSW",
            From = WarningLevel.Notice, To = WarningLevel.Yellow, ChangedOn = new DateOnly(2026, 6, 20), DueDate = new DateOnly(2026, 6, 30),
            EscalateTo = EscalationTo.LeadUnit, Escalation = "HNMZT.SHSW", RecordedAt = new DateTime(2026, 6, 19, 16, 0, 0, DateTimeKind.Utc),
        };
    }
}
