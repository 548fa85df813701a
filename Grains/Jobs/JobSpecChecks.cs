using Grains.Interfaces;
using Grains.Models;

namespace Grains.Jobs;

/// <summary>
/// The full check of a spec on a silo: configured limits, then the model (registered? classes in range? guidance?).
/// The API grain runs it before the tenant reserves quota, so a spec the coordinator would refuse never touches the
/// tenant's counters; the coordinator runs it again as the authority (a model may disappear in between).
/// </summary>
public static class JobSpecChecks
{
    public static async Task<(ModelInfo? Model, List<FieldError> Errors)> ValidateAsync(JobSpec spec, JobLimits limits, ModelCatalog catalog)
    {
        var errors = JobSpecValidator.Validate(spec, limits).ToList();
        if (errors.Count > 0) return (null, errors);
        ModelInfo? model = null;
        try { model = await catalog.DescribeAsync(spec.ModelId); }
        catch (UnknownModelException e) { errors.Add(new FieldError("modelId", e.Message)); }
        catch (Exception e) { errors.Add(FieldError.Of("modelId", $"model '{spec.ModelId}' cannot be used: {e.Message}")); }
        if (model is not null) errors.AddRange(JobSpecValidator.Validate(spec, limits, model));
        return (model, errors);
    }
}
