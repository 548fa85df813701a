namespace Grains.Interfaces;

/// <summary>
/// Why the cluster refused a request. Clients decide on the kind alone, never on a message's wording: the HTTP API
/// answers 400, 429, 409 or 404 for them, scmctl exits 2, 6, 2 or 5.
/// </summary>
public enum RejectionKind
{
    /// <summary>A field is malformed or out of range: the same request will be refused again.</summary>
    Invalid,
    /// <summary>A tenant quota is exhausted; most free up as the tenant's jobs finish. The fields are the quotas.</summary>
    QuotaExceeded,
    /// <summary>What the request would create exists already (a job id, a tenant).</summary>
    Conflict,
    /// <summary>What the request names does not exist (a tenant).</summary>
    NotFound,
}

/// <summary>
/// One refused field (or quota). <see cref="Message"/> is a whole sentence that starts with the field ("frames: must be
/// in [1, 10000], got 0") because it is also printed on its own (a CLI line, a log); a form keys it by
/// <see cref="Field"/>, so nobody has to split the message to find the field.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record FieldError([property: Id(0)] string Field, [property: Id(1)] string Message)
{
    /// <summary>The usual sentence: "{field}: {rule}".</summary>
    public static FieldError Of(string field, string rule) => new(field, $"{field}: {rule}");

    public override string ToString() => Message;
}

/// <summary>A refusal: its kind and every field error (at least one).</summary>
[GenerateSerializer, Immutable]
public sealed record Rejection([property: Id(0)] RejectionKind Kind, [property: Id(1)] FieldError[] Errors)
{
    public static Rejection Invalid(IEnumerable<FieldError> errors) => new(RejectionKind.Invalid, errors.ToArray());
    public static Rejection Invalid(string field, string rule) => new(RejectionKind.Invalid, [FieldError.Of(field, rule)]);
    public static Rejection QuotaExceeded(IEnumerable<FieldError> quotas) => new(RejectionKind.QuotaExceeded, quotas.ToArray());
    public static Rejection Conflict(string field, string rule) => new(RejectionKind.Conflict, [FieldError.Of(field, rule)]);
    public static Rejection NotFound(string field, string rule) => new(RejectionKind.NotFound, [FieldError.Of(field, rule)]);

    public string[] Messages => Errors.Select(e => e.Message).ToArray();

    public override string ToString() => string.Join("; ", Messages);
}

/// <summary>
/// A call of the API grain that returns something other than a <see cref="SubmitResult"/> (the admin operations, usage)
/// was refused. Serialisable, so it crosses grain calls and reaches Orleans clients and the HTTP API as it was thrown.
/// </summary>
[GenerateSerializer]
public sealed class RejectedException : Exception
{
    [Id(0)] public Rejection Rejection { get; }

    public RejectedException(Rejection rejection) : base(rejection.ToString()) => Rejection = rejection;

    public override string Message => Rejection.ToString();
}
