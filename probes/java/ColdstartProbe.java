import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The coldstart probe in Java: the probe core and line protocol of probes/core, standard
 * library only, one class.
 *
 * <pre>
 * java -cp DIR ColdstartProbe [serve|once|lambda] [--instance-nonce HEX] [--init-kib N]
 *                             [--init-iters N] [--invoke-iters N] [--nonce HEX]
 * </pre>
 *
 * <p>{@code serve} (the default) prints READY and answers INVOKE lines until EXIT or end of
 * input; {@code once} runs one invocation and prints its DONE line; {@code lambda} runs the
 * Lambda Runtime API loop at {@code $AWS_LAMBDA_RUNTIME_API}. Parameters also come from
 * COLDSTART_INSTANCE_NONCE, COLDSTART_INIT_KIB, COLDSTART_INIT_ITERS and
 * COLDSTART_INVOKE_ITERS (flags win); COLDSTART_TEST_SLEEP (tests only) sleeps at a known
 * point.
 *
 * <p>The arithmetic is on {@code long}, which wraps in two's complement exactly like the Rust
 * core's wrapping u64: right shifts are {@code >>>} (unsigned), the word index is {@link
 * Long#remainderUnsigned}, and hexadecimal goes through {@link Long#parseUnsignedLong} and
 * {@link Long#toUnsignedString}.
 */
public final class ColdstartProbe {
  private static final long SEED = 0x636f6c6473746172L; // "coldstar"
  private static final long GOLDEN = 0x9e3779b97f4a7c15L;
  private static final String USAGE =
      "usage: java ColdstartProbe [serve|once|lambda] [--instance-nonce HEX] [--init-kib N]"
          + " [--init-iters N] [--invoke-iters N] [--nonce HEX]";
  private static final Pattern INVOKE = Pattern.compile("INVOKE (\\d+) ([0-9a-fA-F]{16}) (\\d+)");

  private final long instanceId;
  private final long[] memory;
  private final long digest;
  private long invocations;

  /** The splitmix64 finaliser. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /** Does the init work of a new instance, keyed by the start's instance nonce. */
  ColdstartProbe(long instanceId, long instanceNonce, long initKib, long initIters) {
    this.instanceId = instanceId;
    long key = mix(instanceNonce ^ GOLDEN);
    memory = new long[Math.toIntExact(initKib * 128)];
    long folded = mix(SEED ^ initKib ^ key);
    for (int i = 0; i < memory.length; i++) {
      long word = mix(SEED + GOLDEN * (i + 1L)) ^ key;
      memory[i] = word;
      folded = Long.rotateLeft(folded, 5) ^ word;
    }
    long d = mix(folded);
    for (long i = 0; Long.compareUnsigned(i, initIters) < 0; i++) {
      d = mix(d ^ i);
    }
    digest = d;
  }

  long checksum(long iters, long nonce) {
    long x = mix(digest ^ iters * GOLDEN ^ mix(nonce ^ SEED));
    for (long i = 0; Long.compareUnsigned(i, iters) < 0; i++) {
      long word = memory.length == 0 ? 0 : memory[(int) Long.remainderUnsigned(x, memory.length)];
      x = mix(x ^ word ^ i);
    }
    return x;
  }

  /** Serves one request: its DONE line's words after the sequence number. */
  String invoke(long iters, long nonce) {
    long index = invocations++;
    return hex(instanceId) + " " + Long.toUnsignedString(index) + " " + hex(checksum(iters, nonce));
  }

  static String hex(long x) {
    String digits = Long.toHexString(x);
    return "0".repeat(16 - digits.length()) + digits;
  }

  static final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }

  static long hexU64(String what, String text) throws UsageException {
    try {
      if (text.length() <= 16 && !text.startsWith("+") && !text.startsWith("-")) {
        return Long.parseUnsignedLong(text, 16);
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new UsageException(what + " \"" + text + "\" is not a hexadecimal u64");
  }

  static long decU64(String what, String text) throws UsageException {
    try {
      if (!text.startsWith("+") && !text.startsWith("-")) {
        return Long.parseUnsignedLong(text);
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new UsageException(what + " \"" + text + "\" is not a non-negative integer");
  }

  static long envU64(String name, long fallback) throws UsageException {
    String text = System.getenv(name);
    return text == null ? fallback : decU64(name + "=", text);
  }

  /** COLDSTART_TEST_SLEEP, e.g. {@code init:200ms,invoke:5ms}: microseconds per point. */
  static long[] testSleep() throws UsageException {
    long[] sleep = {0, 0}; // init, invoke
    String value = System.getenv("COLDSTART_TEST_SLEEP");
    for (String raw : value == null ? new String[0] : value.split(",")) {
      String part = raw.trim();
      if (part.isEmpty()) {
        continue;
      }
      Matcher m = Pattern.compile("(\\w+):\\s*(\\d+)(ms|us)").matcher(part);
      if (!m.matches()) {
        throw new UsageException("COLDSTART_TEST_SLEEP: \"" + part + "\" is not <point>:<duration>");
      }
      long micros = Long.parseLong(m.group(2)) * (m.group(3).equals("ms") ? 1000 : 1);
      switch (m.group(1)) {
        case "init" -> sleep[0] = micros;
        case "invoke" -> sleep[1] = micros;
        default -> throw new UsageException(
            "COLDSTART_TEST_SLEEP: unknown point \"" + m.group(1) + "\" (init, invoke)");
      }
    }
    return sleep;
  }

  static void nap(long micros) {
    if (micros > 0) {
      try {
        Thread.sleep(micros / 1000, (int) (micros % 1000) * 1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  public static void main(String[] argv) throws Exception {
    String mode = "serve";
    long instanceNonce;
    long initKib;
    long initIters;
    long invokeIters;
    long nonce = 0;
    long[] sleep;
    try {
      String env = System.getenv("COLDSTART_INSTANCE_NONCE");
      instanceNonce = env == null ? 0 : hexU64("COLDSTART_INSTANCE_NONCE=", env);
      initKib = envU64("COLDSTART_INIT_KIB", 4);
      initIters = envU64("COLDSTART_INIT_ITERS", 100);
      invokeIters = envU64("COLDSTART_INVOKE_ITERS", 50);
      sleep = testSleep();
      for (int i = 0; i < argv.length; i++) {
        String word = argv[i];
        switch (word) {
          case "serve", "once", "lambda" -> mode = word;
          case "-h", "--help" -> throw new UsageException("");
          case "--instance-nonce", "--init-kib", "--init-iters", "--invoke-iters", "--nonce" -> {
            if (i + 1 == argv.length) {
              throw new UsageException(word + " needs a value");
            }
            String value = argv[++i];
            switch (word) {
              case "--instance-nonce" -> instanceNonce = hexU64(word, value);
              case "--init-kib" -> initKib = decU64(word, value);
              case "--init-iters" -> initIters = decU64(word, value);
              case "--invoke-iters" -> invokeIters = decU64(word, value);
              default -> nonce = hexU64(word, value);
            }
          }
          default -> throw new UsageException("unknown argument \"" + word + "\"");
        }
      }
    } catch (UsageException e) {
      if (!e.getMessage().isEmpty()) {
        System.err.println("coldstart-probe: " + e.getMessage());
      }
      System.err.println(USAGE);
      System.exit(2);
      return;
    }
    ColdstartProbe probe =
        new ColdstartProbe(new SecureRandom().nextLong(), instanceNonce, initKib, initIters);
    nap(sleep[0]);
    switch (mode) {
      case "once" -> {
        nap(sleep[1]);
        System.out.println("DONE 0 " + probe.invoke(invokeIters, nonce));
      }
      case "lambda" -> probe.lambdaLoop(sleep[1]);
      default -> probe.serve(sleep[1]);
    }
  }

  private void serve(long sleepInvoke) throws IOException {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    // Flushed by hand after each line; a PrintStream never throws, checkError() says
    // whether the harness has gone (EPIPE), and then nothing is left to answer.
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    out.print("READY " + hex(instanceId) + "\n");
    out.flush();
    for (String line; (line = in.readLine()) != null && !line.equals("EXIT"); ) {
      Matcher m = INVOKE.matcher(line);
      long[] request = m.matches() ? request(m) : null;
      if (request != null) {
        nap(sleepInvoke);
        out.print(
            "DONE " + Long.toUnsignedString(request[0]) + " " + invoke(request[2], request[1]) + "\n");
      } else {
        out.print("ERR not a probe protocol line: \"" + line + "\"\n");
      }
      out.flush();
      if (out.checkError()) {
        return;
      }
    }
  }

  /** An INVOKE line's seq, nonce and iters, or null when a number does not fit a u64. */
  private static long[] request(Matcher m) {
    try {
      return new long[] {
        Long.parseUnsignedLong(m.group(1)),
        Long.parseUnsignedLong(m.group(2), 16),
        Long.parseUnsignedLong(m.group(3))
      };
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static final Pattern FIELD =
      Pattern.compile("\"(seq|nonce|iters)\"\\s*:\\s*(?:\"([0-9a-fA-F]+)\"|(\\d+))");

  /** The Lambda Runtime API: poll for the next event, answer it, forever. */
  private void lambdaLoop(long sleepInvoke) throws IOException {
    // Lambda gives host:port; an emulator may give a whole base URL.
    String base = System.getenv("AWS_LAMBDA_RUNTIME_API");
    String api =
        (base.startsWith("http://") ? base : "http://" + base) + "/2018-06-01/runtime/invocation/";
    for (; ; ) {
      // HttpURLConnection, not java.net.http: under cargo-lambda's emulator HttpClient
      // made the cold start 598 ms (153 ms with this) and warm requests 32-45 ms.
      HttpURLConnection next = (HttpURLConnection) URI.create(api + "next").toURL().openConnection();
      String requestId = next.getHeaderField("Lambda-Runtime-Aws-Request-Id");
      String event;
      try (InputStream in = next.getInputStream()) {
        event = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      // The event is {"seq": N, "nonce": "<16 hex>", "iters": N}; the standard library
      // has no JSON reader, and these three flat fields need none.
      Map<String, String> fields = new HashMap<>();
      for (Matcher m = FIELD.matcher(event); m.find(); ) {
        fields.put(m.group(1), m.group(2) != null ? m.group(2) : m.group(3));
      }
      String path;
      String body;
      if (fields.size() == 3 && fields.get("nonce").length() == 16) {
        nap(sleepInvoke);
        String[] done =
            invoke(
                    Long.parseUnsignedLong(fields.get("iters")),
                    Long.parseUnsignedLong(fields.get("nonce"), 16))
                .split(" ");
        path = "/response";
        body =
            String.format(
                "{\"seq\":%s,\"instance_id\":\"%s\",\"index\":%s,\"checksum\":\"%s\"}",
                fields.get("seq"), done[0], done[1], done[2]);
      } else {
        path = "/error";
        body = "{\"errorMessage\":\"not a coldstart request\",\"errorType\":\"BadRequest\"}";
      }
      HttpURLConnection answer =
          (HttpURLConnection) URI.create(api + requestId + path).toURL().openConnection();
      answer.setRequestMethod("POST");
      answer.setRequestProperty("Content-Type", "application/json");
      answer.setDoOutput(true);
      try (OutputStream out = answer.getOutputStream()) {
        out.write(body.getBytes(StandardCharsets.UTF_8));
      }
      try (InputStream in = answer.getInputStream()) {
        in.readAllBytes();
      }
    }
  }
}
