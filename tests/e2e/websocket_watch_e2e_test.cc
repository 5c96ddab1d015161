// A watch over WebSocket, as browsers and the Python client's websocket module open one: each
// event one text message, and a normal close when timeoutSeconds runs out.
#include <gtest/gtest.h>

#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using namespace std::chrono_literals;

// Debian's websocket-client lives in the system interpreter's dist-packages.
constexpr const char* kSystemPython = "/usr/bin/python3";

// Connects, creates the ConfigMap with kubectl only once the watch is open (so the event cannot
// come before it), then prints every message and the close code.
constexpr const char* kWatchScript = R"(
import json, ssl, struct, subprocess, sys, websocket
port, tls, kubectl, kubeconfig, manifest, home = sys.argv[1:7]
ws = websocket.create_connection(
    "wss://127.0.0.1:%s/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=5" % port,
    sslopt={"ca_certs": tls + "ca.crt", "certfile": tls + "admin.crt",
            "keyfile": tls + "admin.key"},
    timeout=30)
subprocess.run([kubectl, "--kubeconfig", kubeconfig, "create", "-f", manifest], check=True,
               env={"HOME": home, "PATH": "/usr/bin:/bin"}, stdout=subprocess.DEVNULL)
while True:
    opcode, data = ws.recv_data(control_frame=True)
    if opcode == websocket.ABNF.OPCODE_CLOSE:
        print("close", struct.unpack("!H", data[:2])[0])
        break
    if opcode != websocket.ABNF.OPCODE_TEXT:
        print("unexpected opcode", opcode)
        continue
    event = json.loads(data)
    print(event["type"], event["object"]["kind"], event["object"]["metadata"]["name"])
)";

TEST(WebSocketWatchE2ETest, EventsArriveAsTextMessagesAndTheTimeoutClosesNormally) {
  const auto probe = testing::RunProcess({kSystemPython, "-c", "import websocket"});
  ASSERT_EQ(probe.exit_code, 0) << "python3-websocket is missing: " << probe.err;
  testing::KppServer server;
  ASSERT_TRUE(server.Start());
  const std::string manifest = server.WriteFile(
      "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: over-websocket\n");
  const auto result =
      testing::RunProcess({kSystemPython, "-c", kWatchScript, std::to_string(server.port()),
                           server.data_dir() + "/tls/", testing::KubectlPath(),
                           server.kubeconfig_path(), manifest, server.root_dir()},
                          60s);
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err << server.Logs();
  // The namespace's kube-root-ca.crt (the root CA publisher's) comes first.
  EXPECT_EQ(result.out,
            "ADDED ConfigMap kube-root-ca.crt\nADDED ConfigMap over-websocket\nclose 1000\n");
}

}  // namespace
}  // namespace kpp
