// LTI Dynamic Registration §3.6: tell the LMS window that registration is over.
(window.opener || window.parent).postMessage({subject: "org.imsglobal.lti.close"}, "*");
