using Scm.Sampling;
using static Scm.Tests.TestSupport;
using static TorchSharp.torch;

namespace Scm.Tests;

public class TeacherSamplerTests
{
    const double Spread = 0.2;
    static readonly long[] Shape = [1, 4, 4];

    /// <summary>
    /// Per-pixel Gaussian data x0 ~ N(m, Spread^2): the ideal denoiser is linear,
    /// x0_hat = m + cos t Spread^2 / v_t (x - cos t m) with v_t = cos^2 t Spread^2 + sin^2 t sigma_data^2,
    /// and the PF-ODE maps x_T to m + Spread (x_T - cos T m) / sqrt(v_T) exactly. The class label shifts m.
    /// </summary>
    sealed class GaussianTeacher
    {
        public long RowsEvaluated;

        public static Tensor Mean(Tensor? labels, long batch)
        {
            var basis = linspace(-0.5, 0.5, 16).view(1, 1, 4, 4);
            var shift = labels is null ? zeros(batch, 1, 1, 1) : (labels * arange(1, labels.shape[1] + 1)).sum(1).view(-1, 1, 1, 1) * 0.1;
            return basis + shift;
        }

        public Tensor Velocity(Tensor xScaled, Tensor cNoise, Tensor? labels)
        {
            RowsEvaluated += xScaled.shape[0];
            double sd = TrigFlow.SigmaData;
            var x = xScaled * sd;
            var t = cNoise.to(float64).view(-1, 1, 1, 1);
            var (c, s) = (t.cos(), t.sin());
            var m = Mean(labels, x.shape[0]).to(float64);
            var v = c * c * Spread * Spread + s * s * sd * sd;
            var x0 = m + c * Spread * Spread / v * (x.to(float64) - c * m);
            return ((c * x.to(float64) - x0) / (s * sd)).to(float32);
        }

        public static Tensor ExactSolution(Tensor xT, Tensor mean)
        {
            double t = TrigFlow.TMax, sd = TrigFlow.SigmaData;
            double v = Math.Cos(t) * Math.Cos(t) * Spread * Spread + Math.Sin(t) * Math.Sin(t) * sd * sd;
            return mean + Spread * (xT - Math.Cos(t) * mean) / Math.Sqrt(v);
        }
    }

    static List<SampleSpec> Specs(int count, double guidance = 1.0) =>
        Enumerable.Range(0, count).Select(i => SampleSpec.Image(7, i, i % 3, 3, guidance)).ToList();

    static Tensor Labels(List<SampleSpec> specs) =>
        tensor(specs.SelectMany(s => s.Label).ToArray(), [specs.Count, specs[0].Label.Length]);

    static double MaxError(int nfe, double guidance = 1.0)
    {
        using var scope = NewDisposeScope();
        var teacher = new GaussianTeacher();
        var sampler = new TeacherSampler(teacher.Velocity, Shape, 3, CPU);
        var specs = Specs(6, guidance);
        var solution = sampler.Solve(specs, TeacherSchedule.ForNfe(nfe));
        var xT = TrigFlow.SigmaData * NoiseBank.StandardNormal(specs, 0, Shape);
        var labels = Labels(specs);
        var mean = GaussianTeacher.Mean(zeros_like(labels), specs.Count) + guidance * (GaussianTeacher.Mean(labels, specs.Count) - GaussianTeacher.Mean(zeros_like(labels), specs.Count));
        var exact = GaussianTeacher.ExactSolution(xT, mean);
        return (solution - exact).abs().max().item<float>();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(63)]
    public void Counts_one_network_evaluation_per_grid_time(int nfe)
    {
        var teacher = new GaussianTeacher();
        var specs = Specs(5);
        var sampler = new TeacherSampler(teacher.Velocity, Shape, 3, CPU, computeBatch: specs.Count);
        var schedule = TeacherSchedule.ForNfe(nfe);
        using var sample = sampler.Sample(specs, schedule);
        Assert.Equal(nfe, schedule.Nfe);
        Assert.Equal(nfe, TeacherSampler.NetworkEvaluations(schedule, specs));
        Assert.Equal((long)nfe * specs.Count, teacher.RowsEvaluated);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(63)]
    public void Guidance_doubles_the_network_evaluations(int nfe)
    {
        var teacher = new GaussianTeacher();
        var specs = Specs(5, guidance: 2.0);
        var sampler = new TeacherSampler(teacher.Velocity, Shape, 3, CPU, computeBatch: specs.Count);
        var schedule = TeacherSchedule.ForNfe(nfe);
        using var sample = sampler.Sample(specs, schedule);
        Assert.Equal(2 * nfe, TeacherSampler.NetworkEvaluations(schedule, specs));
        Assert.Equal(2L * nfe * specs.Count, teacher.RowsEvaluated);
    }

    [Fact]
    public void The_network_runs_on_full_compute_chunks_only()
    {
        var teacher = new GaussianTeacher();
        var batches = new List<long>();
        var sampler = new TeacherSampler((x, t, labels) => { batches.Add(x.shape[0]); return teacher.Velocity(x, t, labels); }, Shape, 3, CPU, computeBatch: 4);
        using var sample = sampler.Sample(Specs(7), TeacherSchedule.ForNfe(3));
        Assert.Equal([7, 1, 4, 4], sample.shape);
        Assert.Equal(2 * 3, batches.Count);
        Assert.All(batches, b => Assert.Equal(4, b));
    }

    [Fact]
    public void A_frame_has_the_same_floats_alone_and_anywhere_in_any_batch()
    {
        var sampler = new TeacherSampler(NewNetwork(Tiny(numClasses: 10), seed: 3), CPU);
        var schedule = TeacherSchedule.ForNfe(5);
        var target = SampleSpec.Image(2024, 77, 7, 10);
        using var alone = sampler.Sample([target], schedule);
        foreach (var (batch, position) in new[] { (2, 1), (8, 7), (9, 8), (13, 4) })
        {
            var specs = Enumerable.Range(0, batch).Select(i => i == position ? target : SampleSpec.Image(2024, 500 + i, i % 10, 10)).ToList();
            using var x = sampler.Sample(specs, schedule);
            Assert.True(Floats(alone).SequenceEqual(Floats(x.narrow(0, position, 1))), $"floats differ for batch {batch}, position {position}");
        }
    }

    [Fact]
    public void Converges_to_the_exact_ODE_solution_of_Gaussian_data_as_NFE_grows()
    {
        int[] nfes = [2, 8, 16, 32, 63, 125];
        var errors = nfes.Select(n => MaxError(n)).ToArray();
        string table = string.Join(", ", nfes.Zip(errors, (n, e) => $"{n}: {e:E2}"));
        // Few steps are pre-asymptotic (the 8 -> 16 error can even grow a little); from 16 on the error must
        // fall like NFE^-2: a second-order solver cuts it ~4x per doubling, a first-order one only ~2x.
        Assert.True(errors[0] > 100 * errors[^1], table);
        Assert.True(errors[0] > errors[1] && errors[1] > errors[3], table);
        for (int i = 3; i < errors.Length; i++)
            Assert.True(errors[i - 1] / errors[i] > 3, $"doubling NFE cut the error less than 3x: {table}");
        Assert.True(errors[^1] < 2e-3, table);
    }

    [Fact]
    public void Guided_solution_is_the_ODE_solution_of_the_guided_Gaussian()
    {
        Assert.True(MaxError(125, guidance: 2.5) < 2e-3);
        Assert.True(MaxError(125, guidance: 0.0) < 2e-3);
    }

    [Fact]
    public void Schedule_follows_EDM_rho_7_in_TrigFlow_time()
    {
        var schedule = TeacherSchedule.ForNfe(8);
        Assert.Equal(TrigFlow.TMax, schedule.Times[0], 12);
        Assert.Equal(Math.Atan(0.002 / TrigFlow.SigmaData), schedule.Times[^1], 12);
        Assert.True(schedule.Times.Zip(schedule.Times.Skip(1)).All(p => p.First > p.Second));
        double sigma3 = Math.Pow(Math.Pow(80, 1 / 7.0) + 3 / 7.0 * (Math.Pow(0.002, 1 / 7.0) - Math.Pow(80, 1 / 7.0)), 7);
        Assert.Equal(Math.Atan(sigma3 / TrigFlow.SigmaData), schedule.Times[3], 12);
        Assert.Equal([TrigFlow.TMax], TeacherSchedule.ForNfe(1).Times);
        Assert.Throws<ArgumentOutOfRangeException>(() => TeacherSchedule.ForNfe(0));
    }

    [Fact]
    public void One_NFE_equals_one_step_consistency_sampling_from_the_same_noise()
    {
        var network = NewNetwork(Tiny(numClasses: 10), seed: 3);
        var specs = Enumerable.Range(0, 4).Select(i => SampleSpec.Image(11, i, i, 10)).ToList();
        using var teacher = new TeacherSampler(network, CPU).Sample(specs, TeacherSchedule.ForNfe(1));
        using var student = new ConsistencySampler(network, CPU).Sample(specs, SamplingSchedule.ForSteps(1));
        // Equal up to float32 round-off: the teacher takes cos/sin of t in double, TrigFlow.Consistency in float32.
        Assert.True(MaxAbsDiff(teacher, student) < 1e-5);
    }

    [Fact]
    public void Guidance_on_an_unconditional_teacher_is_rejected()
    {
        var sampler = new TeacherSampler(new GaussianTeacher().Velocity, Shape, 0, CPU);
        var specs = new[] { new SampleSpec(new NoiseKey(1, 0), new NoiseKey(1, 0), 0, [], Guidance: 2) };
        Assert.Throws<ArgumentException>(() => sampler.Sample(specs, TeacherSchedule.ForNfe(2)));
    }
}
