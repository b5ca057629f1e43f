using Dapper;

namespace Rectify.Api.Infrastructure.Database;

/// <summary>
/// The conditions of a list query from the filters a request gives, and only those, each parameterised: PostgreSQL
/// plans the list for what is asked (a prepared read keeps one plan per combination of filters, instead of planning a
/// catch-all <c>@x IS NULL OR …</c> statement anew on every request), and no parameter is sent for a filter not given.
/// </summary>
public sealed class ListFilters(DynamicParameters? args = null)
{
    readonly List<string> _conditions = [];

    /// <summary>
    /// The parameters of the conditions, and those the query's columns need (<see cref="With"/>); shared with another
    /// set of conditions of the same query when given (an outer query's).
    /// </summary>
    public DynamicParameters Args { get; } = args ?? new();

    /// <summary>A parameter the query needs whatever the filters (e.g. the day its derived columns are taken on).</summary>
    public ListFilters With(string name, object? value)
    {
        Args.Add(name, value);
        return this;
    }

    /// <summary>Adds <paramref name="condition"/>, which reads <c>@</c><paramref name="name"/>, when <paramref name="value"/> is given.</summary>
    public ListFilters Where(string name, object? value, string condition)
    {
        if (value is null) return this;
        Args.Add(name, value);
        _conditions.Add(condition);
        return this;
    }

    /// <summary>The conditions joined by AND (<c>true</c> without any), to follow a WHERE.</summary>
    public string Sql => _conditions.Count == 0 ? "true" : string.Join("\n  AND ", _conditions);
}
