#!/usr/bin/env python3
"""A test admission webhook over HTTPS (stdlib only).

Usage: webhook_server.py CERT KEY PORT_FILE
Listens on 127.0.0.1 (a free port, written to PORT_FILE) and answers AdmissionReviews:
  /deny   refuses every request with the message "denied by the test webhook"
  /label  allows, adding the label webhook=mutated with a JSONPatch, and sends a warning
Every other path allows the request unchanged.
"""
import base64
import http.server
import json
import ssl
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        review = json.loads(self.rfile.read(length))
        request = review["request"]
        response = {"uid": request["uid"], "allowed": True}
        path = self.path.split("?")[0]
        if path == "/deny":
            response["allowed"] = False
            response["status"] = {"code": 403, "message": "denied by the test webhook"}
        elif path == "/label":
            labels = (request.get("object") or {}).get("metadata", {}).get("labels")
            if labels is None:
                patch = [{"op": "add", "path": "/metadata/labels", "value": {"webhook": "mutated"}}]
            else:
                patch = [{"op": "add", "path": "/metadata/labels/webhook", "value": "mutated"}]
            response["patchType"] = "JSONPatch"
            response["patch"] = base64.b64encode(json.dumps(patch).encode()).decode()
            response["warnings"] = ["labelled by the test webhook"]
        body = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                           "response": response}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    cert, key, port_file = sys.argv[1:4]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
