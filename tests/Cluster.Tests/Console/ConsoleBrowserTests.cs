using System.Globalization;
using System.Net;
using OpenQA.Selenium;
using static Cluster.Tests.HttpApiTesting;

namespace Cluster.Tests.WebConsole;

/// <summary>
/// The web console in a real browser (headless chromium) against the real API silo: sign-in, the submit form, live
/// progress, preview, frames and video, cancel, field errors, tenant isolation and the operators' page. Each test
/// uses tenants of its own, created through the admin API, so what one console shows cannot come from another test.
/// Screenshots of the main pages land in out/test-artifacts/console.
/// </summary>
[Collection(HttpApiCollection.Name)]
[Trait("Category", "Browser")]
public sealed class ConsoleBrowserTests(HttpApiSilo silo, ConsoleBrowser browser) : IClassFixture<ConsoleBrowser>
{
    Uri Base => silo.Silo.HttpBase;

    [Fact]
    public async Task A_tenant_submits_through_the_form_and_watches_the_job_reach_its_preview_frames_and_video()
    {
        var key = await CreateTenantAsync("console-a");
        browser.SignIn(Base, key, "console-a");
        browser.Go("#/submit");
        browser.Element("#submit-form");
        Assert.Equal("Video", browser.Element("#job-kind").GetAttribute("value"));
        Assert.True(browser.Element("#job-mp4").Selected);
        // The shipped model (the model field left empty), so that the screenshots show digits.
        browser.Fill("job-classes", "3, 7");
        browser.Fill("job-frames", "12");
        browser.Fill("job-outputSize", "64");
        browser.Fill("job-seed", "3");
        browser.Element("#submit-job").Click();

        var jobId = browser.Until("the new job's page", d => d.Url.Contains("#/jobs/", StringComparison.Ordinal)
            ? Uri.UnescapeDataString(d.Url[(d.Url.IndexOf("#/jobs/", StringComparison.Ordinal) + "#/jobs/".Length)..]) : null);
        browser.Until("progress at 100 %", d => d.FindElement(By.CssSelector(".job-progress .percent")).Text == "100 %");
        browser.Until("the state Completed", d => d.FindElement(By.CssSelector(".view-head .state")).Text == "Completed");
        browser.Until("the live preview loaded", _ => Convert.ToInt64(browser.Script("return document.getElementById('preview').naturalWidth;"), CultureInfo.InvariantCulture) > 0);
        browser.Until("the video's metadata loaded", _ => Convert.ToInt64(browser.Script("return document.getElementById('video')?.readyState ?? 0;"), CultureInfo.InvariantCulture) >= 1);
        browser.Until("all 12 thumbnails loaded", _ => Convert.ToInt64(browser.Script(
            "return [...document.querySelectorAll('#frames img')].filter(i => i.complete && i.naturalWidth > 0).length;"), CultureInfo.InvariantCulture) == 12);
        Assert.Equal(64L, Convert.ToInt64(browser.Script("return document.getElementById('video').videoWidth;"), CultureInfo.InvariantCulture));
        browser.Element("#download-manifest");
        Assert.False(browser.Driver.FindElement(By.Id("cancel-job")).Displayed);
        Assert.True(browser.FitsWidth());
        browser.Screenshot("job");
        browser.Viewport(390, 844, mobile: true);
        Assert.True(browser.Until("the job page at phone width", _ => browser.FitsWidth()));
        browser.Screenshot("job-phone");
        browser.Viewport(1280, 800, mobile: false);

        browser.Go("#/jobs");
        var row = browser.Until<IWebElement?>("the job in the list", d => d.FindElements(By.CssSelector("#jobs-list tbody tr"))
            .FirstOrDefault(r => r.FindElement(By.CssSelector("th")).Text == jobId));
        Assert.Contains("Completed", row!.Text);
        Assert.Contains("12 / 12", row.Text);
        Assert.True(browser.FitsWidth());
        browser.Screenshot("jobs");

        // Keyboard: the skip link, then the navigation and sign-out; Enter on a link opens its view with its heading focused.
        Assert.Equal(["Jobs", "Submit", "Usage", "Sign out"], browser.TabOrder(".skip", 4));
        browser.Script("document.querySelector('#nav a[data-view=usage]').focus();");
        browser.Driver.SwitchTo().ActiveElement().SendKeys(Keys.Enter);
        browser.Until("the usage heading focused", d => d.SwitchTo().ActiveElement().Text == "Usage" && d.SwitchTo().ActiveElement().TagName == "h1");

        browser.Until("four quota bars", d => d.FindElements(By.CssSelector(".bars .bar-row")).Count == 4);
        Assert.Contains("1 jobs, 12 frames", browser.Element(".usage").Text);
        browser.Screenshot("usage");

        Assert.Empty(browser.ScriptProblems());

        // The key stays in this tab's sessionStorage: not in the URL, a cookie, localStorage or the silo's log.
        Assert.Equal(key, browser.Script("return sessionStorage.getItem('scm.apiKey');"));
        Assert.Equal(0L, Convert.ToInt64(browser.Script("return localStorage.length;"), CultureInfo.InvariantCulture));
        Assert.Equal("", browser.Script("return document.cookie;"));
        Assert.DoesNotContain(key, browser.Driver.Url);
        Assert.DoesNotContain(Grains.Interfaces.ApiKeys.Parse(key).Secret, silo.Logs());
    }

    [Fact]
    public async Task A_value_the_API_refuses_is_shown_next_to_its_field_and_submits_nothing()
    {
        var key = await CreateTenantAsync("console-e");
        browser.SignIn(Base, key, "console-e");
        browser.Go("#/submit");
        browser.Fill("job-modelId", "tiny");
        browser.Fill("job-frames", "0");
        browser.Element("#job-frames").SendKeys(Keys.Enter); // submitted from the keyboard

        var error = browser.Until<IWebElement?>("the frames error", d => d.FindElement(By.Id("job-frames-error")) is { Text.Length: > 0 } e ? e : null);
        Assert.Equal("frames: must be in [1, 10000], got 0", error!.Text);
        Assert.Equal("true", browser.Element("#job-frames").GetAttribute("aria-invalid"));
        Assert.Contains("job-frames-error", browser.Element("#job-frames").GetAttribute("aria-describedby"));
        Assert.Equal("job-frames", browser.Driver.SwitchTo().ActiveElement().GetAttribute("id")); // focus moved to the field in error
        Assert.Equal("", browser.Driver.FindElement(By.Id("job-fps-error")).Text);
        Assert.EndsWith("#/submit", browser.Driver.Url);
        browser.Screenshot("submit-error");

        using var http = silo.Http(key);
        Assert.Empty((await JsonOf(await http.GetAsync("v1/jobs"))).GetProperty("jobs").EnumerateArray());
    }

    [Fact]
    public async Task A_running_job_is_cancelled_from_its_page()
    {
        var key = await CreateTenantAsync("console-c");
        using var http = silo.Http(key);
        // More frames than the tiny model renders in the seconds the page needs to open (the tenant's per-job maximum).
        var submit = await http.PostAsync("v1/jobs?jobId=long", Json("""{"kind":"ImageSet","modelId":"tiny","classes":[1],"frames":2000,"outputSize":8}"""));
        Assert.Equal(HttpStatusCode.Accepted, submit.StatusCode);

        browser.SignIn(Base, key, "console-c");
        browser.Go("#/jobs/long");
        browser.Element("#cancel-job").Click();
        browser.Until("the state Cancelled", d => d.FindElement(By.CssSelector(".view-head .state")).Text == "Cancelled");
        Assert.False(browser.Driver.FindElement(By.Id("cancel-job")).Displayed);
        Assert.Equal("Cancelled", (await JsonOf(await http.GetAsync("v1/jobs/long"))).GetProperty("state").GetString());

        // The list's state filter.
        browser.Go("#/jobs?state=Running");
        browser.Until("no running jobs", d => d.FindElement(By.Id("jobs-list")).Text == "No running jobs.");
        browser.Go("#/jobs?state=Cancelled");
        browser.Until("the cancelled job", d => d.FindElements(By.CssSelector("#jobs-list tbody th")).Select(e => e.Text).SequenceEqual(["long"]));
        Assert.Equal("Cancelled", browser.Element("#state-filter").GetAttribute("value"));
    }

    [Fact]
    public async Task Tenant_B_sees_none_of_tenant_As_jobs_and_the_operators_page_refuses_a_tenant_key()
    {
        var keyA = await CreateTenantAsync("console-ia");
        var keyB = await CreateTenantAsync("console-ib");
        using (var a = silo.Http(keyA))
            Assert.Equal(HttpStatusCode.Accepted, (await a.PostAsync("v1/jobs?jobId=a-only", Json("""{"modelId":"tiny","frames":4,"outputSize":16}"""))).StatusCode);
        using (var b = silo.Http(keyB))
            Assert.Equal(HttpStatusCode.Accepted, (await b.PostAsync("v1/jobs?jobId=b-only", Json("""{"modelId":"tiny","frames":4,"outputSize":16}"""))).StatusCode);

        // A key the API refuses: the sign-in form says why and nothing is kept.
        browser.OpenSignedOut(Base);
        browser.Element("#api-key").SendKeys(keyB[..^4] + "AAAA" + Keys.Enter);
        Assert.StartsWith("Unauthorized: ", browser.Until("the refusal", d => d.FindElement(By.Id("sign-in-error")).Text is { Length: > 0 } t ? t : null));
        Assert.Null(browser.Script("return sessionStorage.getItem('scm.apiKey');"));

        browser.SignIn(Base, keyB, "console-ib");
        browser.Go("#/jobs");
        var ids = browser.Until("B's job listed", d =>
        {
            var shown = d.FindElements(By.CssSelector("#jobs-list tbody th")).Select(e => e.Text).ToList();
            return shown.Contains("b-only") ? shown : null;
        });
        Assert.Equal(["b-only"], ids);

        // A's job by its URL: the API's 404, exactly as for a job that does not exist.
        browser.Go("#/jobs/a-only");
        var notFound = browser.Element(".problem");
        Assert.Equal("404", notFound.GetAttribute("data-status"));
        Assert.Contains("no job 'a-only'", notFound.Text);

        Assert.False(browser.Driver.FindElement(By.Id("nav-admin")).Displayed);
        browser.Go("#/admin");
        var refused = browser.Until("the admin page's refusal", d => d.FindElement(By.CssSelector(".problem[data-status='403']")));
        Assert.Contains("NotAdmin", refused.Text);
        Assert.Empty(browser.Driver.FindElements(By.Id("tenants-heading")));
    }

    [Fact]
    public async Task An_operator_sees_silos_devices_and_queues_and_manages_a_tenant()
    {
        browser.SignIn(Base, silo.AdminKey, "admin");
        browser.Go("#/admin");
        browser.Until("the silo in the silos table", d => d.FindElements(By.CssSelector("table")).Any(t => t.Text.Contains(silo.Silo.Name, StringComparison.Ordinal)));
        browser.Until("a device's utilisation", d => d.FindElements(By.CssSelector("meter[aria-label='utilisation']")).Count > 0);

        var tenant = "console-op-" + Guid.NewGuid().ToString("N")[..6];
        browser.Fill("new-tenant", tenant);
        browser.Fill("new-maxRunningJobs", "2");
        browser.Element("#create-tenant button[type='submit']").Click();
        var issued = browser.Until("the new key", d => d.FindElement(By.Id("issued-key-value")).GetAttribute("value") is { Length: > 0 } v ? v : null);
        using (var asTenant = silo.Http(issued))
        {
            var usage = await JsonOf(await asTenant.GetAsync("v1/usage"));
            Assert.Equal(tenant, usage.GetProperty("id").GetString());
            Assert.Equal(2, usage.GetProperty("quota").GetProperty("maxRunningJobs").GetInt32());
        }

        browser.Element($"button[aria-label='Manage tenant {tenant}']").Click();
        browser.Fill("weight-weight", "0");
        browser.Element("#tenant-editor form button[type='submit']").Click();
        Assert.StartsWith("weight: must be in", browser.Until("the weight error", d => d.FindElement(By.Id("weight-weight-error")).Text is { Length: > 0 } t ? t : null));
        browser.Fill("weight-weight", "2.5");
        browser.Element("#tenant-editor form button[type='submit']").Click();
        browser.Until("the new weight in the table", d => d.FindElements(By.CssSelector("table tbody tr"))
            .Any(r => r.Text.StartsWith(tenant, StringComparison.Ordinal) && r.Text.Contains("2.50", StringComparison.Ordinal)));
        browser.Screenshot("operators");

        browser.Driver.FindElements(By.CssSelector("#tenant-editor button")).Single(b => b.Text == "Rotate key").Click();
        browser.Until("the rotated key", d => d.FindElement(By.Id("issued-key-value")).GetAttribute("value") is { Length: > 0 } v && v != issued);
        using var old = silo.Http(issued);
        Assert.Equal(HttpStatusCode.Unauthorized, (await old.GetAsync("v1/usage")).StatusCode);
    }

    /// <summary>A tenant through the admin API (the silo's cluster is new for every run, so names need no suffix).</summary>
    async Task<string> CreateTenantAsync(string tenant)
    {
        using var admin = silo.Http(silo.AdminKey);
        var created = await admin.PostAsync("v1/admin/tenants", Json($$"""{"tenant":"{{tenant}}"}"""));
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return (await JsonOf(created)).GetProperty("apiKey").GetString()!;
    }
}
