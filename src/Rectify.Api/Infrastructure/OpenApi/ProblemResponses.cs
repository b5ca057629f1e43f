namespace Rectify.Api.Infrastructure.OpenApi;

/// <summary>The error answers shared by families of operations, documented in one place.</summary>
public static class ProblemResponses
{
    /// <summary>PUT of a versioned resource: bad fields, not found, refused move, stale or missing If-Match, broken rule.</summary>
    public static RouteHandlerBuilder ProducesUpdateProblems(this RouteHandlerBuilder builder)
        => builder.ProducesActionProblems()
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status428PreconditionRequired);

    /// <summary>An action on a resource with an optional If-Match: bad fields, not found, refused move, stale If-Match.</summary>
    public static RouteHandlerBuilder ProducesActionProblems(this RouteHandlerBuilder builder)
        => builder.ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);
}
