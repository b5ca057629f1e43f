namespace Rectify.Api.Infrastructure;

public sealed class RectifyOptions
{
    public const string Section = "Rectify";

    /// <summary>IANA time zone in which "today" and month ends are taken.</summary>
    public string TimeZone { get; set; } = "Asia/Shanghai";

    /// <summary>An unfinished measure due within this many days shows yellow (traffic light and warning level).</summary>
    public int DueSoonDays { get; set; } = 10;

    /// <summary>An unfinished item due within this many days (and not yet yellow) is at warning level notice (提醒).</summary>
    public int NoticeDays { get; set; } = 20;
}

/// <summary>"Today" in the configured time zone; tests fix the instant through <see cref="TimeProvider"/>.</summary>
public sealed class Clock(TimeProvider time, Microsoft.Extensions.Options.IOptions<RectifyOptions> options)
{
    readonly TimeZoneInfo _zone = TimeZoneInfo.FindSystemTimeZoneById(options.Value.TimeZone);

    public DateTime UtcNow => time.GetUtcNow().UtcDateTime;

    public DateOnly Today => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(time.GetUtcNow(), _zone).DateTime);

    /// <summary>An instant as the office's clock shows it: a publication on 5 November in Shanghai is dated 5 November.</summary>
    public DateTime ToLocal(DateTime utc) => TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(utc, DateTimeKind.Utc), _zone);

    /// <summary>The UTC instant at which <paramref name="date"/> begins in the configured time zone.</summary>
    public DateTime StartOfDayUtc(DateOnly date)
        => TimeZoneInfo.ConvertTimeToUtc(date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified), _zone);

    /// <summary>Last day on which an unfinished measure is still only "due soon" (yellow) rather than green.</summary>
    public DateOnly DueSoonUntil => Today.AddDays(options.Value.DueSoonDays);

    /// <summary>Last day on which an unfinished item is at warning level notice rather than none.</summary>
    public DateOnly NoticeUntil => Today.AddDays(options.Value.NoticeDays);
}
