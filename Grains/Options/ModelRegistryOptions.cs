using Grains.Interfaces;

namespace Grains.Options;

/// <summary>Model id -> checkpoint. Section "Models". Paths are model cards (.json) beside their weights.</summary>
public sealed class ModelRegistryOptions : IValidatedOptions
{
    public const string Section = "Models";
    public const string DefaultModelId = "mnist-scm";

    /// <summary>
    /// Card path per model id: an absolute path, a path relative to the working directory or the application
    /// folder, or "blob:&lt;name&gt;" for a card stored in the cluster's blob store (weights beside it).
    /// </summary>
    public Dictionary<string, string> Registry { get; set; } = new()
    {
        [DefaultModelId] = "models/mnist-scm/model.json",
    };

    /// <summary>Where blob-hosted checkpoints are cached locally.</summary>
    public string CacheDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "scm-model-cache");

    public IEnumerable<string> Problems()
    {
        if (Registry.Count == 0) yield return "Models:Registry must name at least one model (id -> model card path)";
        foreach (var (id, path) in Registry.Where(p => string.IsNullOrWhiteSpace(p.Value)))
            yield return $"Models:Registry:{id} must be a model card path or 'blob:<name>', got an empty value";
        if (string.IsNullOrWhiteSpace(CacheDirectory)) yield return "Models:CacheDirectory must be a folder path";
    }
}
