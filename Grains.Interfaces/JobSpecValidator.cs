using System.Globalization;

namespace Grains.Interfaces;

/// <summary>
/// Checks every field of a <see cref="JobSpec"/>; each error names the field and the allowed range.
/// Shared by the client (early feedback) and the coordinator (the authority, which also knows the model).
/// Values echoed back are shortened and escaped (<see cref="Echo"/>): a 10 MB string or a million-entry array must not
/// come back as a 10 MB error, and control or bidi characters must not forge lines in a log or terminal.
/// </summary>
public static class JobSpecValidator
{
    const double TMax = 1.5645; // atan(80 / 0.5), the sampler's first time.

    public static IReadOnlyList<FieldError> Validate(JobSpec? spec, JobLimits limits, ModelInfo? model = null)
    {
        var errors = new List<FieldError>();
        if (spec is null) return [FieldError.Of("spec", "required")];
        if (!Enum.IsDefined(spec.Kind)) errors.Add(FieldError.Of("kind", $"must be ImageSet or Video, got {(int)spec.Kind}"));
        if (string.IsNullOrWhiteSpace(spec.ModelId)) errors.Add(FieldError.Of("modelId", "required"));
        else if (spec.ModelId.Length > 128 || !spec.ModelId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            errors.Add(FieldError.Of("modelId", "1-128 characters from [A-Za-z0-9-_.]"));
        if (spec.Frames < 1 || spec.Frames > limits.MaxFrames) errors.Add(FieldError.Of("frames", $"must be in [1, {limits.MaxFrames}], got {spec.Frames}"));
        if (spec.Fps < 1 || spec.Fps > limits.MaxFps) errors.Add(FieldError.Of("fps", $"must be in [1, {limits.MaxFps}], got {spec.Fps}"));
        if (spec.Steps < 1 || spec.Steps > limits.MaxSteps) errors.Add(FieldError.Of("steps", $"must be in [1, {limits.MaxSteps}], got {spec.Steps}"));
        if (spec.OutputSize < 8 || spec.OutputSize > limits.MaxOutputSize) errors.Add(FieldError.Of("outputSize", $"must be in [8, {limits.MaxOutputSize}], got {spec.OutputSize}"));
        if (spec.Resize is not ("bilinear" or "nearest")) errors.Add(FieldError.Of("resize", $"must be 'bilinear' or 'nearest', got {Echo(spec.Resize)}"));
        if (spec.Priority < 0 || spec.Priority > limits.MaxPriority) errors.Add(FieldError.Of("priority", $"must be in [0, {limits.MaxPriority}], got {spec.Priority}"));
        if (spec.ItemFrames is { } b && (b < 1 || b > limits.MaxItemFrames)) errors.Add(FieldError.Of("itemFrames", $"must be in [1, {limits.MaxItemFrames}], got {b}"));
        if (!double.IsFinite(spec.Guidance) || spec.Guidance < 0 || spec.Guidance > limits.MaxGuidance)
            errors.Add(FieldError.Of("guidance", $"must be in [0, {limits.MaxGuidance}], got {spec.Guidance}"));
        if (spec.Mp4 && spec.Kind == JobKind.ImageSet && spec.Frames < 1) errors.Add(FieldError.Of("mp4", "needs at least one frame"));

        if (spec.Classes is null || spec.Classes.Length == 0) errors.Add(FieldError.Of("classes", "at least one class is required"));
        else if (spec.Classes.Length > limits.MaxKeyframes) errors.Add(FieldError.Of("classes", $"at most {limits.MaxKeyframes} entries, got {spec.Classes.Length}"));

        if (spec.IntermediateTimes is { } times)
        {
            if (times.Length != Math.Max(0, spec.Steps - 1))
                errors.Add(FieldError.Of("intermediateTimes", $"needs steps - 1 = {Math.Max(0, spec.Steps - 1)} values, got {times.Length}"));
            double previous = TMax;
            foreach (var t in times)
            {
                if (!double.IsFinite(t) || t <= 0 || t >= previous)
                {
                    errors.Add(FieldError.Of("intermediateTimes", $"must decrease strictly within (0, {TMax}), got {Echo(times)}"));
                    break;
                }
                previous = t;
            }
        }

        if (model is not null)
        {
            if (spec.Classes is { Length: > 0 } && spec.Classes.Any(c => c < 0 || c >= model.NumClasses))
                errors.Add(FieldError.Of("classes", $"model '{model.Id}' has classes 0..{model.NumClasses - 1}, got {Echo(spec.Classes)}"));
            if (spec.Guidance != 1.0 && !model.SupportsGuidance)
                errors.Add(FieldError.Of("guidance", $"model '{model.Id}' was not distilled with guidance; use 1"));
        }
        return errors;
    }

    const int EchoChars = 64;
    const int EchoItems = 16;

    /// <summary>A client-supplied string for an error message: quoted, at most 64 characters, non-printing ones as \uXXXX.</summary>
    public static string Echo(string? value)
    {
        if (value is null) return "null";
        var text = new System.Text.StringBuilder("'");
        foreach (var c in value.Length > EchoChars ? value[..EchoChars] : value)
        {
            // Control (C0/C1), format (zero-width, bidi overrides), line separators and surrogates (so also emoji, and
            // never half a pair cut at the limit) are escaped.
            var category = char.GetUnicodeCategory(c);
            if (category is System.Globalization.UnicodeCategory.Control or System.Globalization.UnicodeCategory.Format
                or System.Globalization.UnicodeCategory.Surrogate or System.Globalization.UnicodeCategory.LineSeparator
                or System.Globalization.UnicodeCategory.ParagraphSeparator)
                text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            else text.Append(c);
        }
        text.Append('\'');
        if (value.Length > EchoChars) text.Append(CultureInfo.InvariantCulture, $" (first {EchoChars} of {value.Length} characters)");
        return text.ToString();
    }

    /// <summary>A client-supplied array for an error message: at most 16 values, then the count.</summary>
    public static string Echo<T>(IReadOnlyCollection<T> values) where T : IFormattable =>
        "[" + string.Join(", ", values.Take(EchoItems).Select(v => v.ToString(null, System.Globalization.CultureInfo.InvariantCulture))) +
        (values.Count > EchoItems ? $", ... ({values.Count} values)]" : "]");
}
