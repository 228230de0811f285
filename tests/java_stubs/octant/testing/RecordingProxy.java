package octant.testing;

import com.comsol.model.Model;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

/**
 * A recording implementation of the COMSOL API stubs (NOT COMSOL): every call on the returned
 * {@link Model} and on the nodes it returns is recorded as "Interface.method(ParamType,...)",
 * i.e. the overload Java resolved. Interface-typed results are new recording proxies; other
 * results are null / zero. Used by tests to check which Java overloads JPype picks for the
 * arguments octant's worker passes.
 */
public final class RecordingProxy implements InvocationHandler {
  private static final List<String> CALLS = new ArrayList<>();
  private final Class<?> type;

  private RecordingProxy(Class<?> type) {
    this.type = type;
  }

  public static Model model() {
    CALLS.clear();
    return (Model) create(Model.class);
  }

  public static List<String> calls() {
    return CALLS;
  }

  private static Object create(Class<?> type) {
    return Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[]{type}, new RecordingProxy(type));
  }

  @Override
  public Object invoke(Object proxy, Method method, Object[] args) {
    if (method.getDeclaringClass() == Object.class) {
      return method.getName().equals("toString") ? "RecordingProxy(" + type.getSimpleName() + ")" : null;
    }
    StringBuilder text = new StringBuilder(type.getSimpleName()).append('.').append(method.getName()).append('(');
    Class<?>[] params = method.getParameterTypes();
    for (int i = 0; i < params.length; i++) {
      text.append(i > 0 ? "," : "").append(params[i].getSimpleName());
    }
    CALLS.add(text.append(')').toString());
    Class<?> result = method.getReturnType();
    if (result.isInterface()) {
      return create(result);
    }
    return null;
  }
}
