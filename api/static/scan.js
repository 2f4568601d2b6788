// The verify page's camera scan. Without this file, or without JavaScript, the page's form still works.
// The decoder loads only when the user taps the button: the browser's own BarcodeDetector where it reads QR codes,
// else the vendored jsQR (vendor/README.md). The QR's URL is never followed: its certificate payload is checked on
// this site, so a QR that points to a cloned site cannot take anyone there.
(function () {
  "use strict";
  var startButton = document.getElementById("scan-start");
  var panel = document.getElementById("scan-panel");
  var video = document.getElementById("scan-video");
  var stopButton = document.getElementById("scan-stop");
  var status = document.getElementById("scan-status");
  if (!startButton || !panel || !video || !stopButton || !status) return;

  var DECODER_URL = new URL("vendor/jsQR.min.js", document.currentScript.src).href;
  var MAX_SIDE = 640;  // frames are scaled down to this before decoding: enough for a QR held in front of the lens
  var EVERY_MS = 200;  // at most five decodes a second, so a cheap phone stays responsive

  // [Bengali, English, a problem?]
  var SAY = {
    insecure: ["ক্যামেরা শুধু নিরাপদ (https://) ঠিকানায় চালু হয়। পেজটি https:// ঠিকানায় খুলুন, অথবা নিচে কোডের লেখা দিন।",
               "The camera works only on a secure (https://) address. Open this page over https://, or paste the code's text below.", true],
    unsupported: ["এই ব্রাউজার ক্যামেরা ব্যবহার করতে পারে না। ফোনের ক্যামেরা অ্যাপ দিয়ে কোডটি স্ক্যান করুন, অথবা নিচে লেখা দিন।",
                  "This browser cannot use the camera. Scan the code with the phone's camera app, or paste its text below.", true],
    noCamera: ["কোনো ক্যামেরা পাওয়া যায়নি। নিচে কোডের লেখা দিন।",
               "No camera was found. Paste the code's text below.", true],
    denied: ["ক্যামেরা ব্যবহারের অনুমতি দেওয়া হয়নি। ব্রাউজারের সেটিংসে এই সাইটকে ক্যামেরার অনুমতি দিন, অথবা নিচে কোডের লেখা দিন।",
             "Permission to use the camera was denied. Allow the camera for this site in the browser's settings, or paste the code's text below.", true],
    busy: ["ক্যামেরাটি অন্য কোনো অ্যাপ ব্যবহার করছে। সেটি বন্ধ করে আবার চেষ্টা করুন।",
           "Another app is using the camera. Close it and try again.", true],
    failed: ["ক্যামেরা চালু করা যায়নি। আবার চেষ্টা করুন, অথবা নিচে কোডের লেখা দিন।",
             "The camera could not be started. Try again, or paste the code's text below.", true],
    noDecoder: ["স্ক্যানার লোড করা যায়নি। পেজটি আবার লোড করুন, অথবা নিচে কোডের লেখা দিন।",
                "The scanner could not be loaded. Reload the page, or paste the code's text below.", true],
    starting: ["ক্যামেরা চালু হচ্ছে…", "Starting the camera…"],
    scanning: ["সনদের কিউআর কোডটি ফ্রেমের মাঝখানে ধরুন।", "Hold the certificate's QR code inside the frame."],
    found: ["কিউআর কোড পাওয়া গেছে, যাচাই হচ্ছে…", "QR code found, checking…"],
    stopped: ["ক্যামেরা বন্ধ করা হয়েছে।", "The camera is off."]
  };

  var stream = null, timer = null, decoder = null;
  var run = 0;  // each start and stop begins a new run; callbacks of an older run do nothing
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", {willReadFrequently: true});

  function say(key) {
    var words = SAY[key], english = document.createElement("span");
    english.lang = "en";
    english.textContent = words[1];
    status.textContent = words[0];
    status.appendChild(english);
    status.classList.toggle("problem", !!words[2]);
  }

  function problemOf(error) {
    switch (error && error.name) {
      case "NotAllowedError": case "PermissionDeniedError": case "SecurityError": return "denied";
      case "NotFoundError": case "DevicesNotFoundError": case "OverconstrainedError": return "noCamera";
      case "NotReadableError": case "TrackStartError": case "AbortError": return "busy";
      case "DecoderError": return "noDecoder";
      default: return "failed";
    }
  }

  // --- decoders: each is a function(canvas) that resolves to the QR's text, or null ---

  function loadDecoder() {
    if (!decoder) {
      decoder = nativeDecoder().then(function (decode) { return decode || vendoredDecoder(); });
      decoder.catch(function () { decoder = null; });  // a failed download may be tried again
    }
    return decoder;
  }

  function nativeDecoder() {
    if (!("BarcodeDetector" in window)) return Promise.resolve(null);
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") < 0) return null;
      var detector = new window.BarcodeDetector({formats: ["qr_code"]});
      return function (frame) {
        return detector.detect(frame).then(function (codes) { return codes.length ? codes[0].rawValue : null; });
      };
    }, function () { return null; });
  }

  function vendoredDecoder() {
    return new Promise(function (resolve, reject) {
      if (window.jsQR) return resolve();
      var script = document.createElement("script");
      script.src = DECODER_URL;
      script.onload = function () { return window.jsQR ? resolve() : reject(); };
      script.onerror = function () { script.remove(); reject(); };
      document.head.appendChild(script);
    }).then(function () {
      return function (frame) {
        var image = context.getImageData(0, 0, frame.width, frame.height);
        var code = window.jsQR(image.data, image.width, image.height, {inversionAttempts: "dontInvert"});
        return Promise.resolve(code ? code.data : null);
      };
    }, function () {
      var error = new Error("the QR decoder did not load");
      error.name = "DecoderError";
      throw error;
    });
  }

  // --- where a QR's text leads: always this site's verify page ---

  function certificateIn(text) {
    var link;
    try { link = new URL(text.trim()); } catch (e) { return null; }
    var values = link.searchParams.getAll("c");
    return /\/verify$/.test(link.pathname) && values.length === 1 ? values[0] : null;
  }

  function verifyUrl(text) {
    var url = new URL("verify", location.href);  // this host, and this union's path when there is one
    var payload = certificateIn(text);
    if (payload) url.searchParams.set("c", payload);
    else url.searchParams.set("qr", text);
    return url.href;
  }

  // --- the camera ---

  function start() {
    if (!window.isSecureContext) return say("insecure");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return say("unsupported");
    var mine = ++run;
    startButton.disabled = true;
    say("starting");
    var decoding = loadDecoder();  // downloads while the browser asks for permission
    decoding.catch(function () {});
    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false}).then(function (camera) {
      if (mine !== run) return camera.getTracks().forEach(function (track) { track.stop(); });
      stream = camera;
      video.srcObject = camera;
      panel.hidden = false;
      startButton.hidden = true;
      stopButton.focus();
      return Promise.all([video.play(), decoding]).then(function (ready) {
        if (mine !== run) return;
        say("scanning");
        scan(ready[1], mine);
      });
    }).catch(function (error) {
      if (mine !== run) return;
      stop();
      say(problemOf(error));
    });
  }

  function scan(decode, mine) {
    function later() {
      if (mine === run) timer = setTimeout(scan, EVERY_MS, decode, mine);
    }
    if (mine !== run) return;
    if (video.readyState < 2 || !video.videoWidth) return later();
    var scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
    var width = Math.round(video.videoWidth * scale), height = Math.round(video.videoHeight * scale);
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    context.drawImage(video, 0, 0, width, height);
    decode(canvas).then(function (text) {
      if (mine !== run) return;
      if (!text) return later();
      stop();
      say("found");
      location.assign(verifyUrl(text));
    }, later);
  }

  function stop() {
    run++;
    clearTimeout(timer);
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    video.srcObject = null;
    panel.hidden = true;
    startButton.hidden = false;
    startButton.disabled = false;
  }

  startButton.addEventListener("click", start);
  stopButton.addEventListener("click", function () {
    stop();
    say("stopped");
    startButton.focus();
  });
  // the camera light goes off when the user leaves the page or switches apps
  document.addEventListener("visibilitychange", function () {
    if (document.hidden && stream) {
      stop();
      say("stopped");
    }
  });
  window.addEventListener("pagehide", stop);
  startButton.hidden = false;
})();
