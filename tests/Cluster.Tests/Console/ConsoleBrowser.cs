using System.Globalization;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace Cluster.Tests.WebConsole;

/// <summary>
/// One headless chromium for the console's browser tests: Debian's chromium and chromium-driver packages (CI installs
/// them in .ci/run), never a browser that downloads itself. Missing ones fail the tests with the command that
/// installs them rather than skipping: a console nobody ran in a browser is not tested.
/// </summary>
public sealed class ConsoleBrowser : IDisposable
{
    /// <summary>Long enough for a cold silo's first job on a busy 2-core machine; a wait returns as soon as its condition holds.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    readonly Lazy<ChromeDriver> driver = new(Start);

    public ChromeDriver Driver => driver.Value;

    /// <summary>Where the screenshots go (git-ignored): out/test-artifacts/console under the repository root.</summary>
    public static string ArtifactFolder { get; } = Path.Combine(DeploymentManifests.RepoRoot, "out", "test-artifacts", "console");

    static ChromeDriver Start()
    {
        var browser = Environment.GetEnvironmentVariable("SCM_TEST_CHROMIUM") ?? "/usr/bin/chromium";
        var driverPath = Environment.GetEnvironmentVariable("SCM_TEST_CHROMEDRIVER") ?? "/usr/bin/chromedriver";
        if (!File.Exists(browser) || !File.Exists(driverPath))
            throw new InvalidOperationException($"The web console's browser tests need chromium ({browser}) and its driver ({driverPath}): " +
                "run `apt-get install -y chromium chromium-driver` (.ci/run does), or point SCM_TEST_CHROMIUM and SCM_TEST_CHROMEDRIVER at them.");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(driverPath)!, Path.GetFileName(driverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = browser };
        // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,800",
            "--mute-audio", "--no-first-run", "--disable-extensions");
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(90));
        Viewport(driver, 1280, 800, mobile: false);
        return driver;
    }

    /// <summary>
    /// The page's size in CSS pixels, exactly (a headless window's size includes a toolbar's worth of height). 1280x800
    /// is the desktop size the console is checked at; 390 wide is a phone.
    /// </summary>
    public void Viewport(int width, int height, bool mobile) => Viewport(Driver, width, height, mobile);

    static void Viewport(ChromeDriver driver, int width, int height, bool mobile) =>
        driver.ExecuteCdpCommand("Emulation.setDeviceMetricsOverride", new Dictionary<string, object?>
        {
            ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = mobile,
        });

    /// <summary>True when nothing sticks out sideways: the page needs no horizontal scrolling (wide tables scroll inside their own box).</summary>
    public bool FitsWidth() => Convert.ToBoolean(Script("return document.documentElement.scrollWidth <= window.innerWidth;"), CultureInfo.InvariantCulture);

    /// <summary>The text of each element the keyboard reaches, pressing Tab <paramref name="presses"/> times from <paramref name="startCss"/>.</summary>
    public List<string> TabOrder(string startCss, int presses)
    {
        Script("document.querySelector(arguments[0]).focus();", startCss);
        var reached = new List<string>();
        for (int i = 0; i < presses; i++)
        {
            Driver.SwitchTo().ActiveElement().SendKeys(Keys.Tab);
            reached.Add(Driver.SwitchTo().ActiveElement().Text);
        }
        return reached;
    }

    /// <summary>Waits until <paramref name="condition"/> returns a non-null, non-false value; fails naming what was awaited.</summary>
    public T Until<T>(string what, Func<IWebDriver, T> condition, TimeSpan? timeout = null)
    {
        var wait = new WebDriverWait(Driver, timeout ?? Patience) { Message = $"the console never showed: {what}" };
        wait.IgnoreExceptionTypes(typeof(NoSuchElementException), typeof(StaleElementReferenceException));
        return wait.Until(condition);
    }

    /// <summary>The element once it is displayed.</summary>
    public IWebElement Element(string css) => Until<IWebElement?>(css, d => d.FindElement(By.CssSelector(css)) is { Displayed: true } e ? e : null)!;

    public object? Script(string script, params object[] arguments) => Driver.ExecuteScript(script, arguments);

    /// <summary>Opens the console as a browser starts: nothing in sessionStorage (signed out).</summary>
    public void OpenSignedOut(Uri silo)
    {
        Driver.Navigate().GoToUrl(new Uri(silo, "console/"));
        Script("sessionStorage.clear();");
        Driver.Navigate().Refresh();
    }

    public void SignIn(Uri silo, string apiKey, string tenant)
    {
        OpenSignedOut(silo);
        var input = Element("#api-key");
        input.SendKeys(apiKey);
        input.SendKeys(Keys.Enter);
        Until($"signed in as {tenant}", d => d.FindElement(By.Id("who-name")).Text.Contains(tenant, StringComparison.Ordinal));
    }

    /// <summary>Changes the fragment (the console's router) as a click on a link would.</summary>
    public void Go(string fragment) => Script("location.hash = arguments[0];", fragment);

    public void Fill(string id, string value)
    {
        var input = Element("#" + id);
        input.Clear();
        input.SendKeys(value);
    }

    /// <summary>
    /// What the page's scripts and the browser's policy checks complained about since the last call: uncaught errors and
    /// Content-Security-Policy violations. (A 404 for a frame not rendered yet is expected and not listed.)
    /// </summary>
    public List<string> ScriptProblems() => Driver.Manage().Logs.GetLog(LogType.Browser).Select(entry => entry.Message)
        .Where(message => message.Contains("Content Security Policy", StringComparison.Ordinal) || message.Contains("Uncaught", StringComparison.Ordinal))
        .ToList();

    public void Screenshot(string name)
    {
        Directory.CreateDirectory(ArtifactFolder);
        Script("window.scrollTo(0, 0);");
        Driver.GetScreenshot().SaveAsFile(Path.Combine(ArtifactFolder, name + ".png"));
    }

    public void Dispose()
    {
        if (driver.IsValueCreated) driver.Value.Quit();
    }
}
