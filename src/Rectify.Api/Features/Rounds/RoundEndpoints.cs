using Microsoft.AspNetCore.Http.HttpResults;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.OpenApi;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Rounds;

public static class RoundEndpoints
{
    public static IEndpointRouteBuilder MapRounds(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/rounds").WithTags("Rounds");

        group.MapGet("/", List).RequireScope(Scopes.Read)
            .WithName("ListRounds")
            .WithSummary("List inspection rounds")
            .WithDescription("Inspection rounds (巡视轮次), oldest first, keyset paged. Filter by state or inspected unit.")
            .ProducesValidationProblem()
            .WithEnumQueryParameter<RoundState>("state")
            .WithExample(response: new Page<RoundResponse>([Examples.Round], null));

        group.MapGet("/{code}", Get).RequireScope(Scopes.Read).ProducesETag()
            .WithName("GetRound")
            .WithSummary("Get a round")
            .WithDescription("One inspection round by its code. The ETag header is the version to send in If-Match when updating.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithExample(response: Examples.Round);

        group.MapPost("/", Create).RequireScope(Scopes.Write).ProducesETag()
            .WithName("CreateRound")
            .WithSummary("Create a round")
            .WithDescription("Registers an inspection round. Send an Idempotency-Key header to make retries safe. A client limited to units " +
                "creates only rounds whose inspected unit is one of its units or below one (403 naming the unit).")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithExample(Examples.Create, Examples.Round);

        group.MapPut("/{code}", Update).RequireScope(Scopes.Write).ProducesETag()
            .WithName("UpdateRound")
            .WithSummary("Update a round")
            .WithDescription("Replaces the round's fields. Requires If-Match with the ETag last read: 412 when the round changed since, 428 " +
                "without it. A client limited to units changes only rounds whose inspected unit it holds, and moves the inspected unit only " +
                "between its units (403 naming the unit).")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status428PreconditionRequired)
            .WithExample(Examples.Update, Examples.Round with { State = RoundState.Consolidating });

        return routes;
    }

    static async Task<Ok<Page<RoundResponse>>> List([AsParameters] RoundListQuery query, RoundUseCases rounds, CancellationToken ct)
        => TypedResults.Ok(await rounds.ListAsync(query, ct));

    static async Task<Ok<RoundResponse>> Get(string code, RoundUseCases rounds, HttpContext http, CancellationToken ct)
    {
        var (round, version) = await rounds.GetAsync(code, ct);
        ETags.Set(http, version);
        return TypedResults.Ok(round);
    }

    static Task<Results<Created<RoundResponse>, Replayed>> Create(CreateRoundRequest request, RoundUseCases rounds, IdempotentCreates creates,
        HttpContext http, CancellationToken ct)
        => creates.CreateAsync(http, request, async (tx, token) =>
        {
            var (round, version) = await rounds.CreateAsync(tx, request, token);
            return new CreatedAnswer<RoundResponse>($"/api/v1/rounds/{Uri.EscapeDataString(round.Code)}", round, version);
        }, ct);

    static async Task<Ok<RoundResponse>> Update(string code, UpdateRoundRequest request, RoundUseCases rounds, HttpContext http, CancellationToken ct)
    {
        var (round, version) = await rounds.UpdateAsync(code, request, ETags.RequiredVersion(http), ct);
        ETags.Set(http, version);
        return TypedResults.Ok(round);
    }

    static class Examples
    {
        public static readonly RoundResponse Round = new(
            "HN-8-6-6", "八届省委第六轮巡视（第六巡视组）对省民政厅党组的巡视",
                "Inspection of the Party Group of the Hainan Department of Civil Affairs by Inspection Group 6, 6th round of the 8th Provincial " +
                "Party Committee",
            "HNMZT", "八届省委第六轮巡视第六巡视组", new DateOnly(2024, 9, 1), new DateOnly(2024, 12, 31), new DateOnly(2025, 2, 28),
            new DateOnly(2025, 5, 31), RoundState.Rectifying, new DateTime(2025, 3, 1, 1, 0, 0, DateTimeKind.Utc),
                new DateTime(2025, 11, 5, 2, 0, 0, DateTimeKind.Utc));

        public static readonly CreateRoundRequest Create = new()
        {
            Code = Round.Code, Name = Round.Name, NameEn = Round.NameEn, InspectedUnit = Round.InspectedUnit, InspectionBody = Round.InspectionBody,
            InspectionStart = Round.InspectionStart, InspectionEnd = Round.InspectionEnd, FeedbackDate = Round.FeedbackDate,
            RectificationDeadline = Round.RectificationDeadline, State = Round.State,
        };

        public static readonly UpdateRoundRequest Update = new()
        {
            Name = Round.Name, NameEn = Round.NameEn, InspectedUnit = Round.InspectedUnit, InspectionBody = Round.InspectionBody,
            InspectionStart = Round.InspectionStart, InspectionEnd = Round.InspectionEnd, FeedbackDate = Round.FeedbackDate,
            RectificationDeadline = Round.RectificationDeadline, State = RoundState.Consolidating,
        };
    }
}
