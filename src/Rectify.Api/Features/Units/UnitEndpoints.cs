using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.OpenApi;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Units;

public static class UnitEndpoints
{
    public static IEndpointRouteBuilder MapUnits(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/units").WithTags("Units");

        group.MapGet("/", List).RequireScope(Scopes.Read)
            .WithName("ListUnits")
            .WithSummary("List units")
            .WithDescription("Organisations and regions in a tree (行政区划 and 部门/处室). Filter by parent code or kind; keyset paged by code.")
            .ProducesValidationProblem()
            .WithEnumQueryParameter<UnitKind>("kind")
            .WithExample(response: new Page<UnitResponse>([Examples.Haikou], null));

        group.MapGet("/{code}", Get).RequireScope(Scopes.Read)
            .WithName("GetUnit")
            .WithSummary("Get a unit")
            .WithDescription("One unit by its code: a GB/T 2260 division code such as 460100, or a department code such as HNMZT.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithExample(response: Examples.Haikou);

        return routes;
    }

    static async Task<Ok<Page<UnitResponse>>> List([AsParameters] UnitListQuery query, UnitUseCases units, CancellationToken ct)
        => TypedResults.Ok(await units.ListAsync(query, ct));

    static async Task<Ok<UnitResponse>> Get(string code, UnitUseCases units, CancellationToken ct)
        => TypedResults.Ok(await units.GetAsync(code, ct));

    static class Examples
    {
        public static readonly UnitResponse Haikou = new("460100", "海口市", "Haikou City", UnitKind.City, "460000");
    }
}
