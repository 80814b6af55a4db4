#!/usr/bin/env python3
"""TLS front for a plain-http threatwalld, used only by kubectl_test.sh.

client-go (and so kubectl) sends bearer tokens only over https: with an
http:// server in the kubeconfig it silently drops the token.  While
threatwalld has no TLS of its own, the kubectl test puts this shim in front:

  tls_proxy.py CERT KEY UPSTREAM_HOST:PORT PORT_FILE

listens on 127.0.0.1 (any free port, written to PORT_FILE), terminates TLS
and copies bytes both ways to the upstream.  Loopback only; exits on SIGTERM.
"""
import socket
import ssl
import sys
import threading


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(conn, ctx, upstream):
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
        up = socket.create_connection(upstream)
    except (OSError, ssl.SSLError):
        conn.close()
        return
    t = threading.Thread(target=pump, args=(up, tls), daemon=True)
    t.start()
    pump(tls, up)
    t.join()
    tls.close()
    up.close()


def main():
    cert, key, upstream, port_file = sys.argv[1:5]
    host, port = upstream.rsplit(":", 1)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(64)
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % lsock.getsockname()[1])
    import os
    os.rename(port_file + ".tmp", port_file)
    while True:
        conn, _ = lsock.accept()
        threading.Thread(target=serve, args=(conn, ctx, (host, int(port))), daemon=True).start()


if __name__ == "__main__":
    main()
