using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Spector;

namespace WebApi;

/// <summary>Spector's typed errors as RFC 9457 problem details: invalid is 400, not found 404, a stale If-Match 412,
/// giving up on serialization failures 409.</summary>
internal sealed class SpectorProblems(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(
        HttpContext context,
        Exception exception,
        CancellationToken cancellationToken
    )
    {
        ProblemDetails? details = exception switch
        {
            ChangesetInvalidException invalid => new HttpValidationProblemDetails(
                invalid.Errors.ToDictionary(e => e.Key, e => e.Value.ToArray())
            )
            {
                Status = StatusCodes.Status400BadRequest,
                Title = $"The {invalid.Action} was refused",
            },
            RecordNotFoundException missing => new ProblemDetails
            {
                Status = StatusCodes.Status404NotFound,
                Title = "No such account",
                Detail = $"{missing.RecordId} does not exist or was deleted.",
            },
            ConcurrencyConflictException conflict => new ProblemDetails
            {
                Status = StatusCodes.Status412PreconditionFailed,
                Title = "The account has changed",
                Detail =
                    $"If-Match named seq {conflict.ExpectedSeq}, the account is at {conflict.ActualSeq}; "
                    + "read it again.",
            },
            SerializationFailureException failure => new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict,
                Title = "Too many concurrent writes",
                Detail = $"Gave up after {failure.Attempts} attempts; try again.",
            },
            BadHttpRequestException bad => new ProblemDetails
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "Bad request",
                Detail = bad.Message,
            },
            _ => null,
        };
        if (details is null)
            return false;
        context.Response.StatusCode = details.Status!.Value;
        return await problems.TryWriteAsync(
            new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = details,
                Exception = exception,
            }
        );
    }
}
