"""moto_server, one request at a time.

moto_server serves each request on its own thread, and its DynamoDB does not apply a
conditional write atomically: two UpdateItems with `attribute_not_exists` that arrive
together can both succeed, which DynamoDB never allows for one item. The tests of
concurrent instances run moto through this instead: the same server (arguments, state,
IAM checks) with its requests served one after the other.
"""
import moto.server as server

_run_simple = server.run_simple


def run_serially(*args, **kwargs):
    kwargs["threaded"] = False
    return _run_simple(*args, **kwargs)


server.run_simple = run_serially
server.main()
