"""moto_server, one request at a time.

moto_server serves each request on its own thread, and its DynamoDB does not apply a
conditional write atomically: two UpdateItems with `attribute_not_exists` that arrive
together can both succeed, which DynamoDB never allows for one item. The tests of
concurrent instances run moto through this instead: the same server (arguments, state,
IAM checks) with its requests handled one after the other. Connections are still served
each on a thread of their own, so that one kept open and idle (a client's connection
opened ahead of need) holds up no other.
"""
import threading

import moto.server as server

_run_simple = server.run_simple


def run_serially(hostname, port, application, **kwargs):
    one_at_a_time = threading.Lock()

    def serially(environ, start_response):
        with one_at_a_time:
            # The whole answer is made under the lock, not only its start.
            return list(application(environ, start_response))

    kwargs["threaded"] = True
    return _run_simple(hostname, port, serially, **kwargs)


server.run_simple = run_serially
server.main()
