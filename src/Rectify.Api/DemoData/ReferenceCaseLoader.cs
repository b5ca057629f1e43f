using System.Text.Json;
using System.Text.Json.Serialization;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.DemoData;

/// <summary>
/// Loads the reference case (the 2025-11 progress report of the Hainan civil-affairs department, see
/// <c>reference-case.jsonc</c>) as demo data, with its indicators and their values (<c>indicators.jsonc</c>, see
/// <see cref="IndicatorDemoLoader"/>). Idempotent: every row is inserted only when its natural key is absent, so a
/// second load changes nothing and a caller's edits to demo rows are kept.
/// </summary>
public sealed class ReferenceCaseLoader(Db db, Clock clock, IServiceScopeFactory scopes, ILogger<ReferenceCaseLoader> logger)
{
    const string ResourceName = "Rectify.Api.DemoData.reference-case.jsonc";
    const string Actor = "demo-data";
    const long DemoDataLock = 0x5245_4354_4946_0002;

    public async Task<DemoLoadResult> LoadAsync(CancellationToken ct)
    {
        var data = Read();
        // Both files are read and checked against each other before any connection is opened: a broken data file
        // fails the start-up with the list of its mistakes, not half way through the transaction.
        var indicators = IndicatorDemoLoader.Read();
        IndicatorDemoLoader.Validate(indicators,
            data.Units.Select(u => u.Code).ToHashSet(StringComparer.Ordinal),
            data.Issues.Select(i => i.Code).ToHashSet(StringComparer.Ordinal),
            data.Issues.SelectMany(i => i.Measures.Select(m => $"{i.Code}/{m.Code}")).ToHashSet(StringComparer.Ordinal));
        var result = await db.WriteAsync(async (tx, token) =>
        {
            // Two nodes starting together must not both insert: one waits for the other, then finds everything present.
            await tx.ExecuteAsync("SELECT pg_advisory_xact_lock(@key)", new { key = DemoDataLock }, token);
            var units = await tx.ExecuteAsync(UnitsSql, new
            {
                codes = data.Units.Select(u => u.Code).ToArray(),
                names = data.Units.Select(u => u.Name).ToArray(),
                namesEn = data.Units.Select(u => u.NameEn).ToArray(),
                kinds = data.Units.Select(u => u.Kind).ToArray(),
                parents = data.Units.Select(u => u.Parent).ToArray(),
            }, token);
            var r = data.Round;
            var rounds = await tx.ExecuteAsync(RoundSql, new
            {
                r.Code, r.Name, r.NameEn, r.InspectedUnit, r.InspectionBody, r.InspectionStart, r.InspectionEnd, r.FeedbackDate,
                r.RectificationDeadline, r.State, now = clock.UtcNow,
            }, token);
            var issues = await tx.ExecuteAsync(IssuesSql, new
            {
                round = r.Code,
                codes = data.Issues.Select(i => i.Code).ToArray(),
                titles = data.Issues.Select(i => i.Title).ToArray(),
                descriptions = data.Issues.Select(i => i.Description).ToArray(),
                categories = data.Issues.Select(i => i.Category).ToArray(),
                leadUnits = data.Issues.Select(i => i.LeadUnit).ToArray(),
                leaders = data.Issues.Select(i => i.ResponsibleLeader).ToArray(),
                states = data.Issues.Select(i => i.State).ToArray(),
                dueDates = data.Issues.Select(i => i.DueDate).ToArray(),
                now = clock.UtcNow,
            }, token);
            var measures = data.Issues.SelectMany(i => i.Measures.Select(m => (Issue: i.Code, Measure: m))).ToList();
            var measureCount = (int)await tx.QuerySingleAsync<long>(MeasuresSql, new
            {
                round = r.Code,
                issueCodes = measures.Select(x => x.Issue).ToArray(),
                codes = measures.Select(x => x.Measure.Code).ToArray(),
                titles = measures.Select(x => x.Measure.Title).ToArray(),
                descriptions = measures.Select(x => x.Measure.Description).ToArray(),
                owners = measures.Select(x => x.Measure.OwnerUnit).ToArray(),
                states = measures.Select(x => x.Measure.State).ToArray(),
                progress = measures.Select(x => x.Measure.Progress).ToArray(),
                startDates = measures.Select(x => x.Measure.StartDate).ToArray(),
                dueDates = measures.Select(x => x.Measure.DueDate).ToArray(),
                completedOn = measures.Select(x => x.Measure.CompletedOn).ToArray(),
                reportDate = r.ReportDate,
                now = clock.UtcNow,
                actor = Actor,
            }, token);
            var evidence = measures.SelectMany(x => x.Measure.Evidence.Select(e => (x.Issue, x.Measure.Code, Evidence: e))).ToList();
            var evidenceCount = await tx.ExecuteAsync(EvidenceSql, new
            {
                round = r.Code,
                issueCodes = evidence.Select(x => x.Issue).ToArray(),
                measureCodes = evidence.Select(x => x.Code).ToArray(),
                titles = evidence.Select(x => x.Evidence.Title).ToArray(),
                numbers = evidence.Select(x => x.Evidence.DocumentNumber).ToArray(),
                issuedOn = evidence.Select(x => x.Evidence.IssuedOn).ToArray(),
                urls = evidence.Select(x => x.Evidence.Url).ToArray(),
                actor = Actor,
                now = clock.UtcNow,
            }, token);
            await tx.ExecuteAsync(ReviewSql, new { round = r.Code, actor = Actor, reviewer = Reviewer, now = clock.UtcNow }, token);
            // Same transaction and lock: the indicators link to the issues and measures inserted just above.
            var (indicatorCount, valueCount) = await IndicatorDemoLoader.LoadAsync(tx, indicators, r.Code, clock, token);
            await PublishReportedMonthAsync(tx, r, token);
            var loaded = new DemoLoadResult(units, rounds, issues, measureCount, evidenceCount, indicatorCount, valueCount);
            if (loaded.Total > 0)
            {
                await tx.ExecuteAsync(
                    "INSERT INTO journal (occurred_at, actor, entity, entity_id, action, after) VALUES (@now, @actor, 'demo-data', @round, 'load', " +
                        "@after::jsonb)",
                    new { now = clock.UtcNow, actor = Actor, round = r.Code, after = JsonSerializer.Serialize(loaded, JsonSerializerOptions.Web) },
                        token);
            }
            return loaded;
        }, ct);
        logger.LogInformation("Demo data (reference case {Round}): {Result}", data.Round.Code,
            result.Total == 0 ? "already loaded" : result.ToString());
        return result;
    }

    /// <summary>
    /// The report is the office's publication for the month before its date (2025-10 for a report of 2025-11-05): that
    /// month's snapshot is drafted from the data just loaded and published, as the office would have. Skipped while
    /// that month is not over (a test clock in the past) and when the round already has it.
    /// </summary>
    async Task PublishReportedMonthAsync(Tx tx, DemoRound round, CancellationToken ct)
    {
        var reported = new Domain.Period(round.ReportDate.Year, round.ReportDate.Month, Domain.IndicatorFrequency.Monthly).Previous();
        if (reported.LastDay >= clock.Today) return;
        await using var scope = scopes.CreateSystemScope();
        var snapshots = scope.ServiceProvider.GetRequiredService<Features.Snapshots.SnapshotUseCases>();
        var found = await Features.Snapshots.SnapshotBuilder.FindRoundAsync(tx.Connection, tx.Transaction, round.Code, ct);
        if (found is null || !await snapshots.DraftIfMissingAsync(tx, found, reported, ct, Actor, ReportNarrative)) return;
        await snapshots.PublishLatestAsync(tx, found, reported, ifMatch: null, note: "据整改进展情况通报", ct);
    }

    // Condensed from part 一 of the report (the office's own account of how it organised the work).
    const string ReportNarrative = "省民政厅党组将巡视整改作为检验“四个意识”的重要标尺，成立由厅党组书记、厅长“双牵头”的巡视整改工作专班，"
        + "每月召开专班会议通报进展、研究举措，实行“清单化管理、项目化推进、销号制落实”，推动巡视反馈问题整改落地见效。";

    static ReferenceCase Read()
    {
        using var stream = typeof(ReferenceCaseLoader).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing.");
        return JsonSerializer.Deserialize<ReferenceCase>(stream, Options) ?? throw new InvalidOperationException("The reference case is empty.");
    }

    static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
    };

    // Parents come before children in the file and foreign keys are checked at the end of the statement,
    // so one set-based insert loads the whole tree.
    const string UnitsSql = """
        INSERT INTO units (code, name, name_en, kind, parent_code)
        SELECT * FROM unnest(@codes::text[], @names::text[], @namesEn::text[], @kinds::text[], @parents::text[])
        ON CONFLICT (code) DO NOTHING
        """;

    const string RoundSql = """
        INSERT INTO rounds (code, name, name_en, inspected_unit_code, inspection_body, inspection_start, inspection_end,
                            feedback_date, rectification_deadline, state, created_at, updated_at)
        VALUES (@code, @name, @nameEn, @inspectedUnit, @inspectionBody, @inspectionStart, @inspectionEnd,
                @feedbackDate, @rectificationDeadline, @state, @now, @now)
        ON CONFLICT (code) DO NOTHING
        """;

    const string IssuesSql = """
        INSERT INTO issues (round_id, code, title, description, category, lead_unit_code, responsible_leader, state, due_date,
                            review_requested_at, review_requested_by, created_at, updated_at)
        SELECT r.id, i.code, i.title, i.description, i.category, i.lead_unit, i.leader, i.state, i.due_date,
               CASE WHEN i.state = 'pending_review' THEN @now END, CASE WHEN i.state = 'pending_review' THEN 'demo-data' END, @now, @now
        FROM unnest(@codes::text[], @titles::text[], @descriptions::text[], @categories::text[], @leadUnits::text[],
                    @leaders::text[], @states::text[], @dueDates::date[])
             AS i(code, title, description, category, lead_unit, leader, state, due_date)
        JOIN rounds r ON r.code = @round
        ON CONFLICT (round_id, code) DO NOTHING
        """;

    // Each measure that has progress gets one progress entry at the date the report states it.
    const string MeasuresSql = """
        WITH inserted AS (
            INSERT INTO measures (issue_id, code, title, description, owner_unit_code, state, progress, start_date, due_date,
                                  completed_on, created_at, updated_at)
            SELECT i.id, m.code, m.title, m.description, m.owner, m.state, m.progress, m.start_date, m.due_date, m.completed_on, @now, @now
            FROM unnest(@issueCodes::text[], @codes::text[], @titles::text[], @descriptions::text[], @owners::text[], @states::text[],
                        @progress::numeric[], @startDates::date[], @dueDates::date[], @completedOn::date[])
                 AS m(issue_code, code, title, description, owner, state, progress, start_date, due_date, completed_on)
            JOIN rounds r ON r.code = @round
            JOIN issues i ON i.round_id = r.id AND i.code = m.issue_code
            ON CONFLICT (issue_id, code) DO NOTHING
            RETURNING id, progress, completed_on
        ), progress AS (
            INSERT INTO measure_progress (measure_id, reported_on, percent, note, recorded_by, recorded_at)
            SELECT id, coalesce(completed_on, @reportDate), progress, '据2025年11月整改进展情况通报', @actor, @now
            FROM inserted WHERE progress > 0
        )
        SELECT count(*) FROM inserted
        """;

    const string EvidenceSql = """
        INSERT INTO measure_evidence (measure_id, title, document_number, issued_on, url, recorded_by, recorded_at)
        SELECT m.id, e.title, e.number, e.issued_on, e.url, @actor, @now
        FROM unnest(@issueCodes::text[], @measureCodes::text[], @titles::text[], @numbers::text[], @issuedOn::date[], @urls::text[])
             AS e(issue_code, measure_code, title, number, issued_on, url)
        JOIN rounds r ON r.code = @round
        JOIN issues i ON i.round_id = r.id AND i.code = e.issue_code
        JOIN measures m ON m.issue_id = i.id AND m.code = e.measure_code
        ON CONFLICT (measure_id, title) DO NOTHING
        """;

    /// <summary>The office's reviewing client in the demo: it decides on what the units (the demo data) submitted, never on its own.</summary>
    public const string Reviewer = "demo-reviewer";

    // The review the report implies (整改一项、审议一项): the evidence of every measure it reports finished (已完成) accepted
    // by the office's reviewer, and the issues it reports as awaiting sign-off (申请销号) submitted with all their evidence.
    // The report names no issue as signed off (已销号), so no submission is accepted here. Only on a first load.
    const string ReviewSql = """
        UPDATE measure_evidence e
        SET status = 'accepted', decided_by = @reviewer, decided_at = @now,
            decision_comment = '据2025年11月整改进展情况通报，该项措施已完成，佐证属实。'
        FROM measures m JOIN issues i ON i.id = m.issue_id JOIN rounds r ON r.id = i.round_id
        WHERE e.measure_id = m.id AND r.code = @round AND m.state = 'done' AND e.status = 'submitted' AND e.recorded_by = @actor;

        INSERT INTO sign_offs (issue_id, summary, evidence, submitted_by, submitted_at)
        SELECT i.id, '整改措施已全部完成，申请销号（据2025年11月整改进展情况通报）。',
               coalesce((SELECT jsonb_agg(jsonb_build_object('evidenceId', e.id) ORDER BY e.id)
                         FROM measure_evidence e JOIN measures m ON m.id = e.measure_id WHERE m.issue_id = i.id), '[]'), @actor, @now
        FROM issues i JOIN rounds r ON r.id = i.round_id
        WHERE r.code = @round AND i.state = 'pending_review' AND NOT EXISTS (SELECT 1 FROM sign_offs s WHERE s.issue_id = i.id);
        """;

    sealed record ReferenceCase(IReadOnlyList<DemoUnit> Units, DemoRound Round, IReadOnlyList<DemoIssue> Issues);
    sealed record DemoUnit(string Code, string Name, string? NameEn, string Kind, string? Parent);
    sealed record DemoRound(string Code, string Name, string? NameEn, string InspectedUnit, string InspectionBody, DateOnly InspectionStart,
        DateOnly InspectionEnd, DateOnly? FeedbackDate, DateOnly? RectificationDeadline, string State, DateOnly ReportDate);
    sealed record DemoIssue(string Code, string Title, string? Description, string? Category, string? LeadUnit, string? ResponsibleLeader,
        string State, DateOnly? DueDate, IReadOnlyList<DemoMeasure> Measures);
    sealed record DemoMeasure(string Code, string Title, string? Description, string OwnerUnit, string State, decimal Progress,
        DateOnly? StartDate, DateOnly DueDate, DateOnly? CompletedOn, IReadOnlyList<DemoEvidence> Evidence);
    sealed record DemoEvidence(string Title, string? DocumentNumber, DateOnly? IssuedOn, string? Url);
}

/// <summary>Rows inserted by one load of the demo data (all zero when it was already loaded).</summary>
public sealed record DemoLoadResult(int Units, int Rounds, int Issues, int Measures, int Evidence, int Indicators, int Values)
{
    public int Total => Units + Rounds + Issues + Measures + Evidence + Indicators + Values;
}
